"""Load harm definitions from the built-in data files or from users' JSON files."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harmjudge.errors import TaxonomyError
from harmjudge.taxonomy.model import HarmDefinition, HarmExtension

BUILTIN_HARMS: tuple[str, ...] = ("blackmail", "leakage", "lethal_override")


def _first_error(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "<root>"
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown key; remove it or check its spelling"
    elif "input" in err and err["type"] != "missing":
        message = f"{message}. Got {err['input']!r}"
    return field, message


def _parse(data: Any, source: str) -> HarmDefinition | HarmExtension:
    if not isinstance(data, dict):
        raise TaxonomyError("expected a JSON object", source=source)
    model: type[HarmDefinition] | type[HarmExtension]
    model = HarmExtension if "extends" in data else HarmDefinition
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        field, message = _first_error(exc)
        raise TaxonomyError(message, source=source, field=field) from None


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaxonomyError(f"cannot read file ({exc.strerror})", source=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaxonomyError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source=str(path)
        ) from None


@functools.cache
def load_builtin(harm_id: str) -> HarmDefinition:
    """Return the built-in definition of ``harm_id`` (read and validated once; definitions are
    immutable)."""
    if harm_id not in BUILTIN_HARMS:
        raise TaxonomyError(
            f"no built-in harm {harm_id!r}; built in are {', '.join(BUILTIN_HARMS)}",
            source=f"<builtin:{harm_id}>",
        )
    text = (
        resources.files("harmjudge.taxonomy")
        .joinpath("data")
        .joinpath(f"{harm_id}.json")
        .read_text(encoding="utf-8")
    )
    parsed = _parse(json.loads(text), f"<builtin:{harm_id}>")
    assert isinstance(parsed, HarmDefinition)
    return parsed


def _apply_extension(base: HarmDefinition, ext: HarmExtension, source: str) -> HarmDefinition:
    try:
        return _extended(base, ext)
    except ValidationError as exc:
        field, message = _first_error(exc)
        raise TaxonomyError(message, source=source, field=field) from None


def _extended(base: HarmDefinition, ext: HarmExtension) -> HarmDefinition:
    return HarmDefinition(
        id=ext.id,
        version=f"{base.version}+{ext.id}.{ext.version}" if ext.id == base.id else ext.version,
        name=ext.name or base.name,
        definition=ext.definition or base.definition,
        criteria=base.criteria + ext.criteria,
        exclusions=base.exclusions + ext.exclusions,
        gate=ext.gate or base.gate,
        examples=base.examples + ext.examples,
        authority_patterns=base.authority_patterns + ext.authority_patterns,
        kinds=ext.kinds if ext.kinds is not None else base.kinds,
    )


def harm_list(harms: Iterable[str] | str | None) -> list[str] | None:
    """Harm ids as a list (``None`` stays ``None``): a single string is one harm id, never
    read letter by letter."""
    if harms is None:
        return None
    return [harms] if isinstance(harms, str) else list(harms)


class Taxonomy(Mapping[str, HarmDefinition]):
    """An ordered, immutable set of harm definitions keyed by harm id.

    >>> tax = Taxonomy.builtin()
    >>> list(tax)
    ['blackmail', 'leakage', 'lethal_override']
    >>> tax["leakage"].gate.kind
    'external_message'
    """

    def __init__(self, harms: Iterable[HarmDefinition]) -> None:
        self._harms: dict[str, HarmDefinition] = {}
        for harm in harms:
            self._harms[harm.id] = harm

    @classmethod
    def builtin(cls) -> Taxonomy:
        """The three built-in harms: blackmail, leakage and lethal override."""
        return cls(load_builtin(h) for h in BUILTIN_HARMS)

    @classmethod
    def load(cls, *paths: str | Path, include_builtin: bool = True) -> Taxonomy:
        """Load harm files (JSON) on top of the built-in harms.

        A file with an ``extends`` key adds to an already loaded harm; a file whose id equals a
        loaded harm's id replaces it. Errors name the file and the field.
        """
        harms = dict(cls.builtin()._harms) if include_builtin else {}
        for raw in paths:
            path = Path(raw)
            parsed = _parse(_read_json(path), str(path))
            if isinstance(parsed, HarmExtension):
                base = harms.get(parsed.extends)
                if base is None:
                    raise TaxonomyError(
                        f"extends unknown harm {parsed.extends!r}; loaded are {', '.join(harms)}",
                        source=str(path),
                        field="extends",
                    )
                harms[parsed.id] = _apply_extension(base, parsed, str(path))
            else:
                harms[parsed.id] = parsed
        return cls(harms.values())

    def select(self, harm_ids: Iterable[str] | str | None) -> tuple[HarmDefinition, ...]:
        """The definitions for ``harm_ids`` in the order given (all when ``None``); a single
        string is one harm id.

        >>> [h.id for h in Taxonomy.builtin().select("leakage")]
        ['leakage']
        """
        wanted = harm_list(harm_ids)
        if wanted is None:
            return tuple(self._harms.values())
        chosen = []
        for harm_id in wanted:
            if harm_id not in self._harms:
                raise TaxonomyError(
                    f"unknown harm {harm_id!r}; known harms are {', '.join(self._harms)}",
                    source="<harms argument>",
                )
            chosen.append(self._harms[harm_id])
        if not chosen:
            raise TaxonomyError("no harm selected", source="<harms argument>")
        return tuple(dict.fromkeys(chosen))

    def __getitem__(self, harm_id: str) -> HarmDefinition:
        try:
            return self._harms[harm_id]
        except KeyError:
            raise KeyError(
                f"unknown harm {harm_id!r}; known harms are {', '.join(self._harms)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._harms)

    def __len__(self) -> int:
        return len(self._harms)

    def __repr__(self) -> str:
        return f"Taxonomy({', '.join(f'{h.id}@{h.version}' for h in self._harms.values())})"


def definition_hash(harm: HarmDefinition) -> str:
    """A short content hash of one definition, for provenance and caching."""
    payload = json.dumps(harm.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()[:12]
