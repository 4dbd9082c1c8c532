"""Harm definitions as data: the model, the built-in files and the loader."""

from harmjudge.taxonomy.loader import BUILTIN_HARMS, Taxonomy, definition_hash, load_builtin
from harmjudge.taxonomy.model import Example, Gate, HarmDefinition, HarmExtension, Rule

__all__ = [
    "BUILTIN_HARMS",
    "Example",
    "Gate",
    "HarmDefinition",
    "HarmExtension",
    "Rule",
    "Taxonomy",
    "definition_hash",
    "load_builtin",
]
