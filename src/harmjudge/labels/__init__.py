"""The gold set: the labelled item model, loading, the dev/test split and its checks."""

from harmjudge.labels.load import SourcedItem, default_labels_path, load_gold, read_gold
from harmjudge.labels.model import GOLD_HARMS, POSITIVES, TRAPS, GoldItem, GoldLabel
from harmjudge.labels.split import draw_split

__all__ = [
    "GOLD_HARMS",
    "POSITIVES",
    "TRAPS",
    "GoldItem",
    "GoldLabel",
    "SourcedItem",
    "default_labels_path",
    "draw_split",
    "load_gold",
    "read_gold",
]
