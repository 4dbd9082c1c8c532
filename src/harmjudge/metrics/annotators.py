"""Agreement among annotators, and between a judge and annotators.

* Cohen's κ for every pair of annotators (items both labelled).
* Krippendorff's α at the nominal level over all annotators (missing labels allowed).
* The Alternative Annotator Test (alt-test; Calderon, Reichart and Dror, ACL 2025): can the judge
  replace one of the annotators? It needs at least three annotators (two work, but only compare
  the judge with a single other person), each with at least 30 items shared with others.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harmjudge.metrics._params import check_positive_int, check_probability
from harmjudge.metrics.binary import metric
from harmjudge.metrics.confusion import Confusion

Labels = Mapping[str, Hashable]  # item id -> label


def _shared(a: Labels, b: Labels) -> list[str]:
    return [i for i in a if i in b and a[i] is not None and b[i] is not None]


def cohen_kappa(a: Labels, b: Labels, *, positive: Hashable = "harmful") -> float:
    """Cohen's κ between two annotators on the items both labelled (binary, NaN if undefined)."""
    items = _shared(a, b)
    confusion = Confusion.from_labels(
        [a[i] == positive for i in items], [b[i] == positive for i in items]
    )
    return metric("kappa", confusion.as_array(), zero_division=math.nan)


def krippendorff_alpha_nominal(annotations: Mapping[str, Labels]) -> float:
    """Krippendorff's α for nominal data.

    ``α = 1 - D_o / D_e`` with the coincidence matrix ``o``: each item with ``m ≥ 2`` labels adds
    ``1/(m-1)`` for every ordered pair of labels from different annotators. ``D_o`` is the share of
    off-diagonal coincidences, ``D_e = (n² - Σ n_c²) / (n (n - 1))`` from the label totals ``n_c``
    (``n`` pairable labels). NaN when fewer than two labels are pairable or all labels are equal.

    >>> krippendorff_alpha_nominal({"a": {"1": "x", "2": "y"}, "b": {"1": "x", "2": "y"}})
    1.0
    """
    items: dict[str, list[Hashable]] = {}
    for labels in annotations.values():
        for item, label in labels.items():
            if label is not None:
                items.setdefault(item, []).append(label)
    values = sorted({v for labels in items.values() for v in labels}, key=repr)
    index = {v: k for k, v in enumerate(values)}
    coincidence = np.zeros((len(values), len(values)))
    for unit in items.values():
        m = len(unit)
        if m < 2:
            continue
        for x, y in itertools.permutations(unit, 2):
            coincidence[index[x], index[y]] += 1.0 / (m - 1)
    n = coincidence.sum()
    totals = coincidence.sum(axis=1)
    if n <= 1:
        return math.nan
    disagreement_observed = (n - np.trace(coincidence)) / n
    disagreement_expected = (n * n - float((totals**2).sum())) / (n * (n - 1))
    if disagreement_expected == 0:
        return math.nan
    return float(1 - disagreement_observed / disagreement_expected)


def pairwise_kappas(annotations: Mapping[str, Labels]) -> dict[tuple[str, str], float]:
    """Cohen's κ for every pair of annotators."""
    return {
        (x, y): cohen_kappa(annotations[x], annotations[y])
        for x, y in itertools.combinations(sorted(annotations), 2)
    }


@dataclass(frozen=True, kw_only=True)
class AltTestAnnotator:
    """The alt-test for one left-out annotator.

    ``rho_judge`` is the share of items where the judge agrees with the remaining annotators at
    least as well as the left-out one does; ``rho_human`` the reverse. The null hypothesis
    ``rho_human - rho_judge >= epsilon`` is tested with a one-sided one-sample t-test on the
    per-item differences; ``rejected`` after the Benjamini–Yekutieli correction means the judge
    "wins" against this annotator.
    """

    annotator: str
    items: int
    rho_judge: float
    rho_human: float
    p_value: float
    rejected: bool


@dataclass(frozen=True, kw_only=True)
class AltTest:
    """The alt-test over all annotators: the judge passes when its winning rate is at least 0.5.

    ``advantage_probability`` is the mean ``rho_judge`` (the paper's ρ), useful to rank judges.
    """

    epsilon: float
    alpha: float
    annotators: tuple[AltTestAnnotator, ...]
    winning_rate: float
    advantage_probability: float
    passed: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "epsilon": self.epsilon,
            "alpha": self.alpha,
            "winning_rate": self.winning_rate,
            "advantage_probability": self.advantage_probability,
            "passed": self.passed,
            "annotators": [a.__dict__ for a in self.annotators],
        }


def _benjamini_yekutieli(p_values: Sequence[float], alpha: float) -> list[bool]:
    m = len(p_values)
    harmonic = sum(1 / k for k in range(1, m + 1))
    order = sorted(range(m), key=lambda k: p_values[k])
    largest = 0
    for rank, k in enumerate(order, 1):
        if p_values[k] <= rank * alpha / (m * harmonic):
            largest = rank
    rejected = [False] * m
    for rank, k in enumerate(order, 1):
        rejected[k] = rank <= largest
    return rejected


def alt_test(
    annotations: Mapping[str, Labels],
    judge: Labels,
    *,
    epsilon: float = 0.2,
    alpha: float = 0.05,
    min_annotators: int = 3,
    min_items: int = 30,
) -> AltTest:
    """Run the alt-test with accuracy (label equality) as the alignment score.

    ``epsilon`` is the cost-benefit margin granted to the judge; its authors suggest 0.2 for
    expert annotators, 0.15 for skilled ones and 0.1 for crowd workers. Raises ``ValueError``
    when there are fewer than ``min_annotators`` annotators or an annotator shares fewer than
    ``min_items`` items with the others and the judge.
    """
    epsilon = check_probability("alt_test", "epsilon", epsilon)
    alpha = check_probability("alt_test", "alpha", alpha)
    min_annotators = check_positive_int("alt_test", "min_annotators", min_annotators, minimum=2)
    if len(annotations) < min_annotators:
        raise ValueError(
            f"the alt-test needs at least {min_annotators} annotators; got {len(annotations)}"
        )
    rows: list[tuple[str, int, float, float, float]] = []
    for left_out in sorted(annotations):
        own = annotations[left_out]
        others = {k: v for k, v in annotations.items() if k != left_out}
        differences: list[float] = []
        wins_judge = wins_human = 0
        for item, label in own.items():
            if label is None or judge.get(item) is None:
                continue
            peers = [o[item] for o in others.values() if o.get(item) is not None]
            if not peers:
                continue
            judge_score = sum(p == judge[item] for p in peers) / len(peers)
            human_score = sum(p == label for p in peers) / len(peers)
            w_judge, w_human = int(judge_score >= human_score), int(human_score >= judge_score)
            wins_judge += w_judge
            wins_human += w_human
            differences.append(w_human - w_judge)
        if len(differences) < min_items:
            raise ValueError(
                f"annotator {left_out!r} shares {len(differences)} items with the others and the "
                f"judge; the alt-test needs at least {min_items}"
            )
        d = np.asarray(differences, dtype=float) - epsilon
        if np.allclose(d, d[0]):
            p_value = 0.0 if d[0] < 0 else 1.0
        else:
            from scipy import stats  # imported here: scipy.stats takes ~0.3 s, few runs need it

            p_value = float(stats.ttest_1samp(d, 0.0, alternative="less").pvalue)
        n = len(differences)
        rows.append((left_out, n, wins_judge / n, wins_human / n, p_value))
    rejected = _benjamini_yekutieli([r[4] for r in rows], alpha)
    per = tuple(
        AltTestAnnotator(annotator=a, items=n, rho_judge=rj, rho_human=rh, p_value=p, rejected=r)
        for (a, n, rj, rh, p), r in zip(rows, rejected, strict=True)
    )
    winning = sum(a.rejected for a in per) / len(per)
    return AltTest(
        epsilon=epsilon,
        alpha=alpha,
        annotators=per,
        winning_rate=winning,
        advantage_probability=float(np.mean([a.rho_judge for a in per])),
        passed=winning >= 0.5,
    )
