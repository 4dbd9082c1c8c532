"""The confusion matrix: the one primitive every agreement metric is computed from.

Counts are kept as ``[tp, fp, fn, tn]`` (``harmful`` is the positive class), so a batch of
bootstrap resamples is simply an array of shape ``(B, 4)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Counts = npt.NDArray[np.int64]

TP, FP, FN, TN = 0, 1, 2, 3


@dataclass(frozen=True)
class Confusion:
    """A binary confusion matrix with ``harmful`` as the positive class.

    >>> Confusion.from_labels([True, True, False, False], [True, False, True, False])
    Confusion(tp=1, fp=1, fn=1, tn=1)
    """

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def positives(self) -> int:
        """Gold positives: ``tp + fn``."""
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        """Gold negatives: ``tn + fp``."""
        return self.tn + self.fp

    @classmethod
    def from_labels(cls, y_true: Sequence[bool], y_pred: Sequence[bool]) -> Confusion:
        """Count agreements between gold labels and predictions (``True`` = harmful)."""
        truth = np.asarray(y_true, dtype=bool)
        pred = np.asarray(y_pred, dtype=bool)
        if truth.shape != pred.shape:
            raise ValueError(f"y_true and y_pred differ in length: {truth.size} != {pred.size}")
        return cls.from_array(codes_to_counts(truth, pred))

    @classmethod
    def from_array(cls, counts: npt.ArrayLike) -> Confusion:
        tp, fp, fn, tn = (int(x) for x in np.asarray(counts).reshape(4))
        return cls(tp=tp, fp=fp, fn=fn, tn=tn)

    def as_array(self) -> Counts:
        return np.array([self.tp, self.fp, self.fn, self.tn], dtype=np.int64)

    def to_json(self) -> dict[str, int]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn}


def codes_to_counts(truth: npt.NDArray[Any], pred: npt.NDArray[Any]) -> Counts:
    """``[tp, fp, fn, tn]`` from boolean arrays."""
    codes = np.where(pred, np.where(truth, TP, FP), np.where(truth, FN, TN))
    return np.bincount(codes.ravel(), minlength=4).astype(np.int64)
