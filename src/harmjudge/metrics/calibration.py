"""How far a judge's confidence can be believed, and where to put its threshold.

All functions take ``p``, the judge's probability that an item is harmful (a harmful verdict
with confidence c gives ``p = c``; a not-harmful one gives ``p = 1 - c``), and the gold labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harmjudge.metrics._params import check_choice, check_positive_int, check_probability


@dataclass(frozen=True, kw_only=True)
class Bin:
    """One reliability bin: ``[low, high)`` (the last bin includes 1.0)."""

    low: float
    high: float
    count: int
    mean_p: float
    observed: float


@dataclass(frozen=True, kw_only=True)
class Reliability:
    """Reliability bins, the expected calibration error and the Brier score.

    ``ece = Σ_b (n_b / n) |observed_b - mean_p_b|`` over non-empty bins;
    ``brier = mean((p - y)²)``, in [0, 1], lower is better.
    """

    bins: tuple[Bin, ...]
    ece: float
    brier: float
    n: int

    def to_json(self) -> dict[str, Any]:
        return {
            "ece": self.ece,
            "brier": self.brier,
            "n": self.n,
            "bins": [b.__dict__ for b in self.bins],
        }


def reliability(
    p: Sequence[float], y_true: Sequence[bool], *, n_bins: int = 10, strategy: str = "uniform"
) -> Reliability:
    """Bin the probabilities (``uniform`` widths or ``quantile`` counts) and compare each bin's
    mean probability with its observed harmful rate.

    >>> r = reliability([0.1, 0.9, 0.8, 0.2], [False, True, True, False], n_bins=2)
    >>> round(r.ece, 3), round(r.brier, 3)
    (0.15, 0.025)
    """
    n_bins = check_positive_int("reliability", "n_bins", n_bins)
    strategy = check_choice("reliability", "strategy", strategy, ("uniform", "quantile"))
    probs = np.asarray(p, dtype=float)
    truth = np.asarray(y_true, dtype=float)
    if probs.shape != truth.shape:
        raise ValueError(f"p and y_true differ in length: {probs.size} != {truth.size}")
    if probs.size and (probs.min() < 0 or probs.max() > 1):
        raise ValueError("p must hold probabilities in [0, 1]")
    if probs.size == 0:
        return Reliability(bins=(), ece=math.nan, brier=math.nan, n=0)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.unique(np.quantile(probs, np.linspace(0.0, 1.0, n_bins + 1)))
        edges[0], edges[-1] = 0.0, 1.0
    which = np.clip(np.searchsorted(edges, probs, side="right") - 1, 0, len(edges) - 2)
    bins = []
    ece = 0.0
    for b in range(len(edges) - 1):
        members = which == b
        count = int(members.sum())
        if count == 0:
            bins.append(
                Bin(
                    low=float(edges[b]),
                    high=float(edges[b + 1]),
                    count=0,
                    mean_p=math.nan,
                    observed=math.nan,
                )
            )
            continue
        mean_p = float(probs[members].mean())
        observed = float(truth[members].mean())
        ece += count / probs.size * abs(observed - mean_p)
        bins.append(
            Bin(
                low=float(edges[b]),
                high=float(edges[b + 1]),
                count=count,
                mean_p=mean_p,
                observed=observed,
            )
        )
    brier = float(np.mean((probs - truth) ** 2))
    return Reliability(bins=tuple(bins), ece=float(ece), brier=brier, n=int(probs.size))


@dataclass(frozen=True, kw_only=True)
class Threshold:
    """A decision threshold on ``p`` (harmful when ``p >= threshold``) and what it achieves on
    the items it was chosen on. ``threshold`` is NaN when no threshold reaches the target."""

    target: str
    goal: float
    threshold: float
    precision: float
    recall: float
    n: int

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def threshold_for(
    p: Sequence[float],
    y_true: Sequence[bool],
    *,
    target_precision: float | None = None,
    target_recall: float | None = None,
) -> Threshold:
    """The threshold that reaches a target precision with the most recall, or a target recall
    with the most precision (ties go to the higher threshold). Candidates are the distinct
    values of ``p``.

    >>> t = threshold_for([0.9, 0.8, 0.6, 0.4, 0.2], [True, True, False, True, False], target_precision=1.0)
    >>> t.threshold, t.recall
    (0.8, 0.6666666666666666)
    """
    if (target_precision is None) == (target_recall is None):
        raise ValueError("give exactly one of target_precision and target_recall")
    target = "precision" if target_precision is not None else "recall"
    goal = check_probability(
        "threshold_for",
        f"target_{target}",
        target_precision if target_precision is not None else target_recall,
        open_interval=False,
    )
    probs = np.asarray(p, dtype=float)
    truth = np.asarray(y_true, dtype=bool)
    best: tuple[float, float, float, float] | None = None
    for candidate in np.unique(probs):
        predicted = probs >= candidate
        tp = int((predicted & truth).sum())
        fp = int((predicted & ~truth).sum())
        fn = int((~predicted & truth).sum())
        precision = tp / (tp + fp) if tp + fp else math.nan
        recall = tp / (tp + fn) if tp + fn else math.nan
        if target == "precision":
            ok, score = (not math.isnan(precision) and precision >= goal), recall
        else:
            ok, score = (not math.isnan(recall) and recall >= goal), precision
        if (
            ok
            and not math.isnan(score)
            and (best is None or score > best[0] or (score == best[0] and candidate > best[1]))
        ):
            best = (score, float(candidate), precision, recall)
    if best is None:
        return Threshold(
            target=target,
            goal=goal,
            threshold=math.nan,
            precision=math.nan,
            recall=math.nan,
            n=int(probs.size),
        )
    _, value, precision, recall = best
    return Threshold(
        target=target,
        goal=goal,
        threshold=value,
        precision=precision,
        recall=recall,
        n=int(probs.size),
    )
