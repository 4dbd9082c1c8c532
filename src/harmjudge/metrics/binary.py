"""Agreement metrics for one harm, all computed from confusion counts.

Every function takes counts of shape ``(..., 4)`` (``[tp, fp, fn, tn]``) and returns an array of
the leading shape, so one call scores the observed matrix or thousands of bootstrap resamples.
Where a metric is undefined (a zero denominator) the ``zero_division`` policy applies: ``"warn"``
(the default) returns NaN and issues :class:`UndefinedMetricWarning` saying how to silence it;
a number (0.0, 1.0 or NaN) is returned silently. Unlike scikit-learn, ``"warn"`` gives NaN rather
than 0, so an undefined value is never read as a measured zero.

=====================  ==========================================  =========  ===================
metric                 formula                                     range      undefined when
=====================  ==========================================  =========  ===================
precision              tp / (tp + fp)                              [0, 1]     tp + fp = 0
recall (sensitivity)   tp / (tp + fn)                              [0, 1]     tp + fn = 0
specificity            tn / (tn + fp)                              [0, 1]     tn + fp = 0
accuracy               (tp + tn) / n                               [0, 1]     n = 0
f1                     2 tp / (2 tp + fp + fn)                     [0, 1]     tp + fp + fn = 0
balanced_accuracy      (recall + specificity) / 2                  [0, 1]     either is undefined
mcc                    (tp tn - fp fn) / sqrt(product of margins)  [-1, 1]    any margin is 0
kappa (Cohen's)        (p_o - p_e) / (1 - p_e)                     [-1, 1]    p_e = 1
=====================  ==========================================  =========  ===================

``p_o`` is the observed agreement ``(tp + tn) / n`` and ``p_e`` the agreement expected by chance
from the margins, ``((tp + fp)(tp + fn) + (fn + tn)(fp + tn)) / n²``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from harmjudge.metrics._params import ZeroDivision, check_zero_division
from harmjudge.metrics.confusion import FN, FP, TN, TP

Floats = npt.NDArray[np.float64]

METRICS: tuple[str, ...] = (
    "precision",
    "recall",
    "f1",
    "specificity",
    "accuracy",
    "balanced_accuracy",
    "mcc",
    "kappa",
)


class UndefinedMetricWarning(UserWarning):
    """A metric had a zero denominator; see the ``zero_division`` parameter."""


def _split(counts: npt.ArrayLike) -> tuple[Floats, Floats, Floats, Floats]:
    array = np.asarray(counts, dtype=np.float64)
    if array.shape[-1] != 4:
        raise ValueError(f"counts must have a last axis of 4 ([tp, fp, fn, tn]); got {array.shape}")
    return array[..., TP], array[..., FP], array[..., FN], array[..., TN]


def _ratio(numerator: Floats, denominator: Floats) -> tuple[Floats, npt.NDArray[np.bool_]]:
    undefined = denominator == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(undefined, np.nan, numerator / np.where(undefined, 1.0, denominator))
    return value, undefined


def _precision(c: npt.ArrayLike) -> tuple[Floats, npt.NDArray[np.bool_]]:
    tp, fp, _, _ = _split(c)
    return _ratio(tp, tp + fp)


def _recall(c: npt.ArrayLike) -> tuple[Floats, npt.NDArray[np.bool_]]:
    tp, _, fn, _ = _split(c)
    return _ratio(tp, tp + fn)


def _specificity(c: npt.ArrayLike) -> tuple[Floats, npt.NDArray[np.bool_]]:
    _, fp, _, tn = _split(c)
    return _ratio(tn, tn + fp)


def _accuracy(c: npt.ArrayLike) -> tuple[Floats, npt.NDArray[np.bool_]]:
    tp, fp, fn, tn = _split(c)
    return _ratio(tp + tn, tp + fp + fn + tn)


def _f1(c: npt.ArrayLike) -> tuple[Floats, npt.NDArray[np.bool_]]:
    tp, fp, fn, _ = _split(c)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _balanced_accuracy(c: npt.ArrayLike) -> tuple[Floats, npt.NDArray[np.bool_]]:
    recall, r_undefined = _recall(c)
    specificity, s_undefined = _specificity(c)
    undefined = r_undefined | s_undefined
    return np.where(undefined, np.nan, (recall + specificity) / 2), undefined


def _mcc(c: npt.ArrayLike) -> tuple[Floats, npt.NDArray[np.bool_]]:
    tp, fp, fn, tn = _split(c)
    margins = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
    return _ratio(tp * tn - fp * fn, np.sqrt(margins))


def _kappa(c: npt.ArrayLike) -> tuple[Floats, npt.NDArray[np.bool_]]:
    tp, fp, fn, tn = _split(c)
    n = tp + fp + fn + tn
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.where(n == 0, np.nan, (tp + tn) / np.where(n == 0, 1.0, n))
        expected = np.where(
            n == 0,
            np.nan,
            ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / np.where(n == 0, 1.0, n) ** 2,
        )
    undefined = (n == 0) | np.isclose(expected, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(
            undefined, np.nan, (observed - expected) / np.where(undefined, 1.0, 1 - expected)
        )
    return value, undefined


_FUNCTIONS: dict[str, Callable[[npt.ArrayLike], tuple[Floats, npt.NDArray[np.bool_]]]] = {
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
    "specificity": _specificity,
    "accuracy": _accuracy,
    "balanced_accuracy": _balanced_accuracy,
    "mcc": _mcc,
    "kappa": _kappa,
}


def metric_values(
    name: str, counts: npt.ArrayLike, *, zero_division: ZeroDivision = "warn", context: str = ""
) -> Floats:
    """The metric ``name`` for each set of counts, with the undefined-value policy applied.

    >>> float(metric_values("precision", [3, 1, 2, 4]))
    0.75
    """
    policy = check_zero_division("metric_values", zero_division)
    if name not in _FUNCTIONS:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    value, undefined = _FUNCTIONS[name](counts)
    if np.any(undefined):
        if policy == "warn":
            where = f" for {context}" if context else ""
            warnings.warn(
                f"{name} is undefined{where} (zero denominator); it is reported as NaN. "
                "Pass zero_division=0.0, 1.0 or nan to choose the value and silence this warning.",
                UndefinedMetricWarning,
                stacklevel=2,
            )
        else:
            value = np.where(undefined, float(policy), value)
    return np.asarray(value, dtype=np.float64)


def metric(
    name: str, counts: npt.ArrayLike, *, zero_division: ZeroDivision = "warn", context: str = ""
) -> float:
    """One metric for one confusion matrix, as a float (NaN when undefined)."""
    result = metric_values(name, counts, zero_division=zero_division, context=context)
    return float(result) if result.ndim == 0 else float(result.reshape(-1)[0])


def is_undefined(name: str, counts: npt.ArrayLike) -> bool:
    """True when ``name`` has a zero denominator on these counts."""
    _, undefined = _FUNCTIONS[name](counts)
    return bool(np.any(undefined))


def nan_to_none(value: float) -> float | None:
    """JSON has no NaN: an undefined value is written as ``null``."""
    return None if math.isnan(value) else value
