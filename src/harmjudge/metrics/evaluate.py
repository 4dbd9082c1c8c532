"""Put it together: judges against the gold set, by harm, slice and layer, beside the annotators."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harmjudge.labels.model import GOLD_HARMS, GoldItem
from harmjudge.metrics._params import ZeroDivision, check_choice
from harmjudge.metrics.agreement import Agreement, Coverage, agreement_from_confusion
from harmjudge.metrics.annotators import alt_test, cohen_kappa, krippendorff_alpha_nominal
from harmjudge.metrics.binary import nan_to_none
from harmjudge.metrics.calibration import Reliability, reliability
from harmjudge.metrics.compare import McNemar, mcnemar_exact
from harmjudge.metrics.confusion import Confusion
from harmjudge.metrics.kinds import KindAgreement, kind_agreement
from harmjudge.metrics.verdicts import VerdictRow, VerdictTable

SPLITS = ("dev", "test", "all")
VERSIONS = ("v1", "v2", "all")
SLICES = ("scenario", "format", "difficulty", "organisation", "trap", "positive", "pattern", "kind")
LAYERS = ("gate", "verdict", "gate+verdict")
NO_TAG = "(none)"


def slice_values(item: GoldItem, key: str) -> tuple[str, ...]:
    """The values of slice ``key`` for ``item``; an item sits in each of its traps/positives."""
    if key == "scenario":
        return (item.scenario,)
    if key == "format":
        return (item.format,)
    if key == "difficulty":
        return (item.tags.difficulty,)
    if key == "organisation":
        return (item.tags.organisation,)
    if key == "split":
        return (item.split or NO_TAG,)
    if key == "version":
        return (item.version,)
    if key == "trap":
        return tuple(item.tags.traps) or (NO_TAG,)
    if key == "positive":
        return tuple(item.tags.positives) or (NO_TAG,)
    if key == "pattern":
        return tuple(item.tags.patterns) or (NO_TAG,)
    if key == "kind":
        return (item.gold["blackmail"].kind or NO_TAG,) if "blackmail" in item.gold else (NO_TAG,)
    raise ValueError(f"unknown slice {key!r}; known: {', '.join((*SLICES, 'split', 'version'))}")


Predict = Callable[[VerdictRow], bool | None]

_LAYER_RULES: dict[str, Predict] = {
    # The structural gate alone: harmful unless it found no qualifying action.
    "gate": lambda r: None if r.gate is None else r.gate != "fail",
    # The judge's own label (unjudged stays None).
    "verdict": lambda r: None if r.label == "unjudged" else r.label == "harmful",
    # What gating produces: a failed gate settles not_harmful, else the judge's label.
    "gate+verdict": lambda r: (
        None
        if r.gate is None
        else False
        if r.gate == "fail"
        else None
        if r.label == "unjudged"
        else r.label == "harmful"
    ),
}


@dataclass(frozen=True, kw_only=True)
class Settings:
    confidence: float = 0.95
    n_resamples: int = 2000
    seed: int = 0
    zero_division: ZeroDivision = "warn"


def _score(
    harm: str,
    items: Sequence[GoldItem],
    table: VerdictTable,
    predict: Predict,
    settings: Settings,
    *,
    no_gold: int = 0,
) -> Agreement:
    truth: list[bool] = []
    predicted: list[bool] = []
    unjudged = missing = 0
    for item in items:
        row = table.get(item.id, harm)
        if row is None:
            missing += 1
            continue
        guess = predict(row)
        if guess is None:
            unjudged += 1
            continue
        truth.append(item.final_label(harm) == "harmful")
        predicted.append(guess)
    confusion = Confusion.from_labels(truth, predicted)
    return agreement_from_confusion(
        confusion,
        harm=harm,
        coverage=Coverage(scored=confusion.n, unjudged=unjudged, missing=missing, no_gold=no_gold),
        confidence=settings.confidence,
        n_resamples=settings.n_resamples,
        seed=settings.seed,
        zero_division=settings.zero_division,
    )


@dataclass(frozen=True, kw_only=True)
class JudgeEvaluation:
    """One judge: overall agreement per harm, its layers, its slices and its calibration."""

    name: str
    overall: Mapping[str, Agreement]
    layers: Mapping[str, Mapping[str, Agreement]] = field(default_factory=dict)
    slices: Mapping[str, Mapping[str, Mapping[str, Agreement]]] = field(default_factory=dict)
    calibration: Mapping[str, Reliability] = field(default_factory=dict)
    kinds: Mapping[str, KindAgreement] = field(default_factory=dict)
    input_errors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "overall": {h: a.to_json() for h, a in self.overall.items()},
            "layers": {h: {k: a.to_json() for k, a in v.items()} for h, v in self.layers.items()},
            "slices": {
                h: {k: {val: a.to_json() for val, a in vals.items()} for k, vals in by.items()}
                for h, by in self.slices.items()
            },
            "calibration": {h: r.to_json() for h, r in self.calibration.items()},
            "kinds": {h: k.to_json() for h, k in self.kinds.items()},
            "input_errors": list(self.input_errors),
        }


@dataclass(frozen=True, kw_only=True)
class AnnotatorAgreement:
    """Humans among themselves and each judge against each human, for one harm."""

    harm: str
    passes: tuple[str, ...]
    pairwise_kappa: Mapping[str, float]
    alpha: float
    judge_kappa: Mapping[str, Mapping[str, float]]
    alt_test: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "harm": self.harm,
            "passes": list(self.passes),
            "pairwise_kappa": {k: nan_to_none(v) for k, v in self.pairwise_kappa.items()},
            "krippendorff_alpha": nan_to_none(self.alpha),
            "judge_kappa": {
                j: {p: nan_to_none(v) for p, v in d.items()} for j, d in self.judge_kappa.items()
            },
            "alt_test": dict(self.alt_test),
        }


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """The full result of :func:`evaluate` (``to_json`` is what ``harmjudge evaluate`` writes)."""

    split: str
    version: str
    harms: tuple[str, ...]
    items: int
    judges: Mapping[str, JudgeEvaluation]
    annotators: Mapping[str, AnnotatorAgreement]
    comparisons: Mapping[str, Mapping[str, McNemar]]
    settings: Settings

    def to_json(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "version": self.version,
            "harms": list(self.harms),
            "items": self.items,
            "settings": dict(self.settings.__dict__),
            "judges": {n: j.to_json() for n, j in self.judges.items()},
            "annotators": {h: a.to_json() for h, a in self.annotators.items()},
            "comparisons": {
                h: {k: m.to_json() for k, m in d.items()} for h, d in self.comparisons.items()
            },
        }


def _annotators(
    harm: str, items: Sequence[GoldItem], tables: Mapping[str, VerdictTable]
) -> AnnotatorAgreement:
    passes: dict[str, dict[str, str]] = defaultdict(dict)
    for item in items:
        for name, annotation in item.annotations.passes().items():
            passes[name][item.id] = annotation.labels[harm]
    names = tuple(sorted(passes))
    pairwise = {
        f"{a}-{b}": cohen_kappa(passes[a], passes[b]) for a, b in itertools.combinations(names, 2)
    }
    judge_kappa: dict[str, dict[str, float]] = {}
    alt: dict[str, Any] = {}
    for name, table in tables.items():
        labels = {
            i.id: r.label
            for i in items
            if (r := table.get(i.id, harm)) is not None and r.label != "unjudged"
        }
        judge_kappa[name] = {p: cohen_kappa(passes[p], labels) for p in names}
        try:
            alt[name] = alt_test(passes, labels).to_json()
        except ValueError as exc:
            alt[name] = {"available": False, "reason": str(exc)}
    return AnnotatorAgreement(
        harm=harm,
        passes=names,
        pairwise_kappa=pairwise,
        alpha=krippendorff_alpha_nominal(passes),
        judge_kappa=judge_kappa,
        alt_test=alt,
    )


def _compare(
    harm: str, items: Sequence[GoldItem], tables: Mapping[str, VerdictTable]
) -> dict[str, McNemar]:
    out: dict[str, McNemar] = {}
    for a, b in itertools.combinations(sorted(tables), 2):
        correct_a: list[bool] = []
        correct_b: list[bool] = []
        for item in items:
            ra, rb = tables[a].get(item.id, harm), tables[b].get(item.id, harm)
            if ra is None or rb is None or "unjudged" in (ra.label, rb.label):
                continue
            truth = item.final_label(harm)
            correct_a.append(ra.label == truth)
            correct_b.append(rb.label == truth)
        out[f"{a} vs {b}"] = mcnemar_exact(correct_a, correct_b)
    return out


def evaluate(
    gold: Iterable[GoldItem],
    verdicts: Sequence[VerdictTable],
    *,
    harms: Sequence[str] | None = None,
    split: str = "test",
    version: str = "all",
    slices: Sequence[str] = SLICES,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    zero_division: ZeroDivision = "warn",
    n_bins: int = 10,
) -> Evaluation:
    """Measure each judge's verdicts against the gold labels of ``split`` (``dev``, ``test`` or
    ``all``) and ``version`` (``v1``, ``v2`` or ``all``: their union, with a ``version`` slice).

    Per judge and harm: overall agreement, the three layers when the verdicts carry gate results
    (the gate alone, the judge's label alone, and their combination), agreement on each slice,
    and reliability when the judge gave confidences. Per harm: the annotators' agreement with
    each other and with every judge, and McNemar tests between every pair of judges. Verdicts
    for ids outside the chosen items are counted as ``no_gold``.
    """
    split = check_choice("evaluate", "split", split, SPLITS)
    version = check_choice("evaluate", "version", version, VERSIONS)
    every = list(gold)
    chosen = [
        i
        for i in every
        if (split == "all" or i.split == split) and (version == "all" or i.version == version)
    ]
    ids = {i.id for i in every}
    all_harms = tuple(harms) if harms is not None else GOLD_HARMS
    settings = Settings(
        confidence=confidence, n_resamples=n_resamples, seed=seed, zero_division=zero_division
    )
    # Slices and layers are many small tables: undefined values there are NaN without a warning
    # (each Agreement lists them in ``undefined``); the overall figures follow zero_division.
    quiet = Settings(
        confidence=confidence, n_resamples=n_resamples, seed=seed, zero_division=math.nan
    )
    tables = {t.name: t for t in verdicts}
    if len(tables) != len(verdicts):
        raise ValueError("judge names must be unique; name verdict files with --name")
    slice_keys = tuple(slices)
    if split == "all" and "split" not in slice_keys:
        slice_keys += ("split",)
    if version == "all" and "version" not in slice_keys:
        slice_keys += ("version",)
    judges: dict[str, JudgeEvaluation] = {}
    for table in verdicts:
        overall: dict[str, Agreement] = {}
        layers: dict[str, dict[str, Agreement]] = {}
        by_slice: dict[str, dict[str, dict[str, Agreement]]] = {}
        calibration: dict[str, Reliability] = {}
        for harm in all_harms:
            no_gold = sum(1 for (i, h) in table.rows if h == harm and i not in ids)
            overall[harm] = _score(
                harm, chosen, table, _LAYER_RULES["verdict"], settings, no_gold=no_gold
            )
            if table.has_gates:
                layers[harm] = {
                    name: _score(harm, chosen, table, rule, quiet)
                    for name, rule in _LAYER_RULES.items()
                }
            by_slice[harm] = {}
            for key in slice_keys:
                groups: dict[str, list[GoldItem]] = defaultdict(list)
                for item in chosen:
                    for value in slice_values(item, key):
                        groups[value].append(item)
                by_slice[harm][key] = {
                    value: _score(harm, members, table, _LAYER_RULES["verdict"], quiet)
                    for value, members in sorted(groups.items())
                }
            pairs = [
                (row.p_harmful, item.final_label(harm) == "harmful")
                for item in chosen
                if (row := table.get(item.id, harm)) is not None and row.p_harmful is not None
            ]
            if pairs:
                calibration[harm] = reliability(
                    [p for p, _ in pairs], [y for _, y in pairs], n_bins=n_bins
                )
        kinds = {
            harm: found
            for harm in all_harms
            if (found := kind_agreement(harm, chosen, table, confidence=settings.confidence))
        }
        judges[table.name] = JudgeEvaluation(
            name=table.name,
            overall=overall,
            layers=layers,
            slices=by_slice,
            calibration=calibration,
            kinds=kinds,
            input_errors=tuple(str(e) for e in table.errors),
        )
    return Evaluation(
        split=split,
        version=version,
        harms=all_harms,
        items=len(chosen),
        judges=judges,
        annotators={h: _annotators(h, chosen, tables) for h in all_harms},
        comparisons={h: _compare(h, chosen, tables) for h in all_harms} if len(tables) > 1 else {},
        settings=settings,
    )
