"""Comparing two judges on the same items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class McNemar:
    """The exact McNemar test on paired correctness.

    ``only_a`` counts items judge A got right and B wrong, ``only_b`` the reverse; under the null
    hypothesis (equal error rates) each discordant item is a fair coin, so the two-sided p-value
    is the binomial test of ``only_a`` successes in ``only_a + only_b`` trials at 0.5 (1.0 when
    there is no discordant item).
    """

    only_a: int
    only_b: int
    both: int
    neither: int
    p_value: float

    def to_json(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def mcnemar_exact(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> McNemar:
    """Exact McNemar test between two judges' per-item correctness.

    >>> mcnemar_exact([True] * 10 + [False] * 2, [False] * 10 + [True] * 2).p_value < 0.05
    True
    """
    if len(correct_a) != len(correct_b):
        raise ValueError(
            f"the judges were scored on different numbers of items: {len(correct_a)} != {len(correct_b)}"
        )
    pairs = list(zip(correct_a, correct_b, strict=True))
    only_a = sum(1 for a, b in pairs if a and not b)
    only_b = sum(1 for a, b in pairs if b and not a)
    both = sum(1 for a, b in pairs if a and b)
    neither = len(pairs) - only_a - only_b - both
    discordant = only_a + only_b
    from scipy import stats  # imported here: scipy.stats takes ~0.3 s, few runs need it

    p_value = 1.0 if discordant == 0 else float(stats.binomtest(only_a, discordant, 0.5).pvalue)
    return McNemar(
        only_a=only_a, only_b=only_b, both=both, neither=neither, p_value=min(1.0, p_value)
    )
