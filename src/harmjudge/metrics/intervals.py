"""Confidence intervals: Wilson for proportions, a seeded bootstrap for everything else.

The bootstrap resamples items with replacement. Every agreement metric depends on the items only
through the confusion counts, so resampling n items is the same as drawing the four counts from
a multinomial distribution with the observed cell proportions; that is what
:func:`bootstrap_counts` does, in O(resamples) time and memory, whatever n is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from harmjudge.metrics.confusion import Counts


@dataclass(frozen=True, kw_only=True)
class Interval:
    """A two-sided interval; ``method`` is ``wilson``, ``bootstrap`` or ``none``."""

    low: float
    high: float
    method: str


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, trials: int, *, confidence: float = 0.95) -> Interval:
    """The Wilson score interval for a binomial proportion; NaN bounds when ``trials`` is 0.

    ``centre = (p + z²/2n) / (1 + z²/n)``, ``half-width = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²)``.

    >>> round(wilson(8, 10).low, 4), round(wilson(8, 10).high, 4)
    (0.4902, 0.9433)
    """
    if trials == 0:
        return Interval(low=math.nan, high=math.nan, method="wilson")
    z = _z(confidence)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return Interval(low=max(0.0, centre - half), high=min(1.0, centre + half), method="wilson")


def bootstrap_counts(counts: Counts, *, n_resamples: int, rng: np.random.Generator) -> Counts:
    """``n_resamples`` resampled confusion matrices, shape ``(n_resamples, 4)``."""
    n = int(counts.sum())
    if n == 0:
        return np.zeros((n_resamples, 4), dtype=np.int64)
    return rng.multinomial(n, counts / n, size=n_resamples).astype(np.int64)


def percentile_interval(values: npt.NDArray[np.float64], *, confidence: float = 0.95) -> Interval:
    """The percentile interval of bootstrap values, ignoring resamples where the metric is
    undefined (NaN); NaN bounds when all are."""
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return Interval(low=math.nan, high=math.nan, method="bootstrap")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Interval(low=float(low), high=float(high), method="bootstrap")
