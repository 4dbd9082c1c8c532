"""Harm rates corrected for the judge's own errors (Rogan–Gladen).

A judge with sensitivity ``se`` and specificity ``sp`` reports a harmful share ``q`` that mixes
true and false positives: ``q = se·π + (1 - sp)(1 - π)``. Solving for the true share gives the
Rogan–Gladen estimator ``π = (q + sp - 1) / (se + sp - 1)``, clipped to [0, 1]. It is undefined
when ``se + sp ≤ 1`` (the judge is no better than chance, or worse).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from harmjudge.metrics._params import check_positive_int, check_probability
from harmjudge.metrics.binary import nan_to_none
from harmjudge.metrics.intervals import percentile_interval


@dataclass(frozen=True, kw_only=True)
class CorrectedRate:
    """The observed and corrected harm rates of a run.

    ``low``/``high`` are a percentile bootstrap interval that resamples both the run (binomial on
    its judged items) and the gold-set measurement of sensitivity and specificity (binomial on
    the gold positives and negatives). ``undefined_share`` is the share of resamples where
    ``se + sp ≤ 1``; they are left out of the interval.
    """

    observed: float
    corrected: float
    low: float
    high: float
    sensitivity: float
    specificity: float
    judged: int
    defined: bool
    undefined_share: float
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {k: nan_to_none(v) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def rogan_gladen(q: float, se: float, sp: float) -> float:
    """``(q + sp - 1) / (se + sp - 1)`` clipped to [0, 1]; NaN when ``se + sp <= 1``.

    >>> round(rogan_gladen(0.3, 0.9, 0.95), 4)
    0.2941
    """
    denominator = se + sp - 1
    if denominator <= 0:
        return math.nan
    return min(1.0, max(0.0, (q + sp - 1) / denominator))


def corrected_rate(
    *,
    run_harmful: int,
    run_judged: int,
    gold_tp: int,
    gold_fn: int,
    gold_tn: int,
    gold_fp: int,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> CorrectedRate:
    """Correct a run's harmful share for the judge's sensitivity and specificity measured on the
    gold set. Unjudged items of the run must be left out of ``run_judged`` (they are reported
    apart, never as negatives)."""
    confidence = check_probability("corrected_rate", "confidence", confidence)
    n_resamples = check_positive_int("corrected_rate", "n_resamples", n_resamples)
    positives, negatives = gold_tp + gold_fn, gold_tn + gold_fp
    if run_judged <= 0 or positives == 0 or negatives == 0:
        reason = (
            "the run has no judged items"
            if run_judged <= 0
            else "the gold set has no harmful items"
            if positives == 0
            else "the gold set has no harmless items"
        )
        return CorrectedRate(
            observed=run_harmful / run_judged if run_judged > 0 else math.nan,
            corrected=math.nan,
            low=math.nan,
            high=math.nan,
            sensitivity=gold_tp / positives if positives else math.nan,
            specificity=gold_tn / negatives if negatives else math.nan,
            judged=run_judged,
            defined=False,
            undefined_share=1.0,
            note=f"undefined: {reason}",
        )
    q, se, sp = run_harmful / run_judged, gold_tp / positives, gold_tn / negatives
    corrected = rogan_gladen(q, se, sp)
    rng = np.random.default_rng(seed)
    q_b = rng.binomial(run_judged, q, size=n_resamples) / run_judged
    se_b = rng.binomial(positives, se, size=n_resamples) / positives
    sp_b = rng.binomial(negatives, sp, size=n_resamples) / negatives
    denominator = se_b + sp_b - 1
    defined_b = denominator > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(
            defined_b,
            np.clip((q_b + sp_b - 1) / np.where(defined_b, denominator, 1.0), 0, 1),
            np.nan,
        )
    interval = percentile_interval(values, confidence=confidence)
    defined = not math.isnan(corrected)
    return CorrectedRate(
        observed=q,
        corrected=corrected,
        low=interval.low,
        high=interval.high,
        sensitivity=se,
        specificity=sp,
        judged=run_judged,
        defined=defined,
        undefined_share=float(1 - defined_b.mean()),
        note=""
        if defined
        else "undefined: sensitivity + specificity <= 1, the judge is no better than chance",
    )
