"""Agreement between a judge and the gold labels for one harm: every metric with an interval,
coverage kept apart, next to constant-predictor baselines."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harmjudge.metrics._params import (
    ZeroDivision,
    check_positive_int,
    check_probability,
    check_zero_division,
)
from harmjudge.metrics.binary import (
    METRICS,
    UndefinedMetricWarning,
    is_undefined,
    metric,
    metric_values,
    nan_to_none,
)
from harmjudge.metrics.confusion import Confusion
from harmjudge.metrics.intervals import Interval, bootstrap_counts, percentile_interval, wilson

# Proportions get Wilson intervals: (successes, trials) from the confusion matrix.
_WILSON = {
    "precision": lambda c: (c.tp, c.tp + c.fp),
    "recall": lambda c: (c.tp, c.tp + c.fn),
    "specificity": lambda c: (c.tn, c.tn + c.fp),
    "accuracy": lambda c: (c.tp + c.tn, c.n),
}


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """A metric's value on the observed items and its interval (NaN when undefined)."""

    value: float
    low: float
    high: float
    method: str

    def to_json(self) -> dict[str, Any]:
        return {
            "value": nan_to_none(self.value),
            "low": nan_to_none(self.low),
            "high": nan_to_none(self.high),
            "method": self.method,
        }


@dataclass(frozen=True, kw_only=True)
class Coverage:
    """What was and was not scored.

    ``scored`` items have a gold label and a judged verdict; ``unjudged`` have a gold label and an
    ``unjudged`` verdict; ``missing`` have a gold label and no verdict at all; ``no_gold`` have a
    verdict but no gold label. Only ``scored`` items enter the metrics.
    """

    scored: int
    unjudged: int = 0
    missing: int = 0
    no_gold: int = 0

    @property
    def gold(self) -> int:
        return self.scored + self.unjudged + self.missing

    def to_json(self) -> dict[str, int]:
        return {
            "scored": self.scored,
            "unjudged": self.unjudged,
            "missing": self.missing,
            "no_gold": self.no_gold,
        }


@dataclass(frozen=True, kw_only=True)
class Agreement:
    """A judge against the gold labels for one harm (on one slice of items)."""

    harm: str
    confusion: Confusion
    metrics: Mapping[str, Estimate]
    baselines: Mapping[str, Mapping[str, float]]
    coverage: Coverage
    undefined: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "harm": self.harm,
            "confusion": self.confusion.to_json(),
            "metrics": {k: v.to_json() for k, v in self.metrics.items()},
            "baselines": {
                k: {m: nan_to_none(v) for m, v in values.items()}
                for k, values in self.baselines.items()
            },
            "coverage": self.coverage.to_json(),
            "undefined": list(self.undefined),
            "settings": dict(self.settings),
        }


def _baseline(confusion: Confusion, always: bool, zero_division: ZeroDivision) -> dict[str, float]:
    """Metrics of a judge that always says ``always``, on the same gold labels."""
    if always:
        counts = [confusion.positives, confusion.negatives, 0, 0]
    else:
        counts = [0, 0, confusion.positives, confusion.negatives]
    policy: ZeroDivision = math.nan if zero_division == "warn" else zero_division
    return {name: metric(name, counts, zero_division=policy) for name in METRICS}


def agreement_from_confusion(
    confusion: Confusion,
    *,
    harm: str = "",
    coverage: Coverage | None = None,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    zero_division: ZeroDivision = "warn",
) -> Agreement:
    """Every metric of :mod:`harmjudge.metrics.binary` with its interval.

    Precision, recall, specificity and accuracy get Wilson intervals; F1, balanced accuracy,
    MCC and κ get percentile intervals from ``n_resamples`` bootstrap resamples drawn with
    ``seed``. Baselines are the constant predictors ``always_harmful`` and
    ``always_not_harmful`` (no intervals).
    """
    policy = check_zero_division("agreement", zero_division)
    confidence = check_probability("agreement", "confidence", confidence)
    n_resamples = check_positive_int("agreement", "n_resamples", n_resamples)
    counts = confusion.as_array()
    rng = np.random.default_rng(seed)
    resampled = bootstrap_counts(counts, n_resamples=n_resamples, rng=rng)
    estimates: dict[str, Estimate] = {}
    undefined = tuple(name for name in METRICS if is_undefined(name, counts))
    context = f"harm {harm!r}" if harm else ""
    for name in METRICS:
        value = metric(name, counts, zero_division=policy, context=context)
        interval: Interval
        if name in _WILSON:
            successes, trials = _WILSON[name](confusion)
            interval = wilson(successes, trials, confidence=confidence)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UndefinedMetricWarning)
                boot = metric_values(name, resampled, zero_division="warn")
            interval = percentile_interval(boot, confidence=confidence)
        if name in undefined:
            interval = Interval(low=math.nan, high=math.nan, method="none")
        estimates[name] = Estimate(
            value=value, low=interval.low, high=interval.high, method=interval.method
        )
    return Agreement(
        harm=harm,
        confusion=confusion,
        metrics=estimates,
        baselines={
            "always_harmful": _baseline(confusion, True, policy),
            "always_not_harmful": _baseline(confusion, False, policy),
        },
        coverage=coverage or Coverage(scored=confusion.n),
        undefined=undefined,
        settings={"confidence": confidence, "n_resamples": n_resamples, "seed": seed},
    )


def agreement(
    y_true: Sequence[bool | None],
    y_pred: Sequence[bool | None],
    *,
    harm: str = "",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    zero_division: ZeroDivision = "warn",
) -> Agreement:
    """Agreement between gold labels and predictions, item by item.

    ``True`` is harmful, ``False`` not harmful; ``None`` in ``y_pred`` is an ``unjudged`` verdict
    and ``None`` in ``y_true`` an item without a gold label. Such items are counted in
    :class:`Coverage` and never scored, in particular never as negatives.

    >>> result = agreement([True, True, False, False, True], [True, False, False, None, True],
    ...                    n_resamples=200)
    >>> result.confusion, result.coverage.unjudged, result.metrics["recall"].value
    (Confusion(tp=2, fp=0, fn=1, tn=1), 1, 0.6666666666666666)
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred differ in length: {len(y_true)} != {len(y_pred)}")
    pairs = list(zip(y_true, y_pred, strict=True))
    scored = [(t, p) for t, p in pairs if t is not None and p is not None]
    coverage = Coverage(
        scored=len(scored),
        unjudged=sum(1 for t, p in pairs if t is not None and p is None),
        no_gold=sum(1 for t, p in pairs if t is None and p is not None),
    )
    confusion = Confusion.from_labels([bool(t) for t, _ in scored], [bool(p) for _, p in scored])
    return agreement_from_confusion(
        confusion,
        harm=harm,
        coverage=coverage,
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
        zero_division=zero_division,
    )
