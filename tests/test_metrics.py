"""Every metric checked against scikit-learn (and the krippendorff package), on random and
degenerate inputs, plus hand-worked examples with the arithmetic written out."""

from __future__ import annotations

import math
import warnings

import krippendorff
import numpy as np
import pytest
from sklearn import metrics as sk

from harmjudge.errors import UsageError
from harmjudge.metrics.agreement import agreement, agreement_from_confusion
from harmjudge.metrics.annotators import alt_test, cohen_kappa, krippendorff_alpha_nominal
from harmjudge.metrics.binary import METRICS, UndefinedMetricWarning, metric, metric_values
from harmjudge.metrics.calibration import reliability, threshold_for
from harmjudge.metrics.compare import mcnemar_exact
from harmjudge.metrics.confusion import Confusion
from harmjudge.metrics.intervals import wilson
from harmjudge.metrics.prevalence import corrected_rate, rogan_gladen


def sklearn_value(name: str, y: np.ndarray, p: np.ndarray) -> float:
    """scikit-learn's value, with undefined values made NaN the way harmjudge reports them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "precision":
            return float(sk.precision_score(y, p, zero_division=np.nan))
        if name == "recall":
            return float(sk.recall_score(y, p, zero_division=np.nan))
        if name == "f1":
            return float(sk.f1_score(y, p, zero_division=np.nan))
        if name == "specificity":
            return float(sk.recall_score(~y, ~p, zero_division=np.nan))
        if name == "accuracy":
            return float(sk.accuracy_score(y, p))
        if name == "balanced_accuracy":
            if len(set(y.tolist())) < 2:
                return math.nan
            return float(sk.balanced_accuracy_score(y, p))
        if name == "mcc":
            c = Confusion.from_labels(y, p)
            margins = (c.tp + c.fp) * (c.tp + c.fn) * (c.tn + c.fp) * (c.tn + c.fn)
            return math.nan if margins == 0 else float(sk.matthews_corrcoef(y, p))
        if name == "kappa":
            return float(sk.cohen_kappa_score(y, p, replace_undefined_by=np.nan))
    raise AssertionError(name)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_random_inputs_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    prevalence, noise = rng.uniform(0, 1), rng.uniform(0, 0.6)
    y = rng.random(n) < prevalence
    p = np.where(rng.random(n) < noise, ~y, y)
    counts = Confusion.from_labels(y, p).as_array()
    for name in METRICS:
        ours = metric(name, counts, zero_division=math.nan)
        assert same(ours, sklearn_value(name, y, p)), (name, ours, sklearn_value(name, y, p))


DEGENERATE = {
    "all harmful, all predicted harmful": ([True] * 5, [True] * 5),
    "all clear, all predicted clear": ([False] * 5, [False] * 5),
    "all harmful, none predicted": ([True] * 4, [False] * 4),
    "none harmful, all predicted": ([False] * 4, [True] * 4),
    "one item right": ([True], [True]),
    "one item wrong": ([False], [True]),
}


@pytest.mark.parametrize("case", DEGENERATE, ids=list(DEGENERATE))
def test_degenerate_inputs_match_sklearn(case: str) -> None:
    y, p = (np.array(v, dtype=bool) for v in DEGENERATE[case])
    counts = Confusion.from_labels(y, p).as_array()
    for name in METRICS:
        assert same(metric(name, counts, zero_division=math.nan), sklearn_value(name, y, p)), name


def test_hand_worked_example() -> None:
    # tp=3, fp=1, fn=2, tn=4, n=10
    counts = [3, 1, 2, 4]
    assert metric("precision", counts) == 3 / 4  # 3 / (3 + 1)
    assert metric("recall", counts) == 3 / 5  # 3 / (3 + 2)
    assert metric("specificity", counts) == 4 / 5  # 4 / (4 + 1)
    assert metric("accuracy", counts) == 7 / 10  # (3 + 4) / 10
    assert metric("f1", counts) == 6 / 9  # 2*3 / (2*3 + 1 + 2)
    assert metric("balanced_accuracy", counts) == pytest.approx((3 / 5 + 4 / 5) / 2)  # 0.7
    # mcc: (3*4 - 1*2) / sqrt(4 * 5 * 5 * 6) = 10 / sqrt(600)
    assert metric("mcc", counts) == pytest.approx(10 / math.sqrt(600))
    # kappa: p_o = 0.7; p_e = (4*5 + 6*5) / 100 = 0.5; (0.7 - 0.5) / (1 - 0.5) = 0.4
    assert metric("kappa", counts) == pytest.approx(0.4)


def test_vectorised_over_resamples() -> None:
    counts = np.array([[3, 1, 2, 4], [0, 0, 5, 5]])
    values = metric_values("precision", counts, zero_division=0.0)
    assert values.tolist() == [0.75, 0.0]


def test_undefined_metric_warns_with_the_fix_and_returns_nan() -> None:
    with pytest.warns(
        UndefinedMetricWarning,
        match=r"precision is undefined for harm 'x'.*zero_division=0.0, 1.0 or nan",
    ):
        value = metric("precision", [0, 0, 3, 3], context="harm 'x'")
    assert math.isnan(value)
    assert metric("precision", [0, 0, 3, 3], zero_division=1.0) == 1.0


@pytest.mark.parametrize("bad", ["zero", 0.5, True, None])
def test_zero_division_is_validated_in_one_message_shape(bad: object) -> None:
    with pytest.raises(
        UsageError,
        match=r"^The 'zero_division' parameter of metric_values must be 'warn', 0.0, 1.0 or nan\. Got ",
    ):
        metric_values("precision", [1, 0, 0, 1], zero_division=bad)  # type: ignore[arg-type]


def test_agreement_never_scores_unjudged_or_ungolded_items() -> None:
    result = agreement(
        [True, True, False, None, False, True],
        [True, None, False, True, None, False],
        n_resamples=50,
    )
    assert result.confusion == Confusion(tp=1, fp=0, fn=1, tn=1)
    assert (result.coverage.scored, result.coverage.unjudged, result.coverage.no_gold) == (3, 2, 1)


def test_agreement_is_seeded_and_reports_baselines() -> None:
    conf = Confusion(tp=20, fp=5, fn=10, tn=65)
    a = agreement_from_confusion(conf, n_resamples=300, seed=3)
    b = agreement_from_confusion(conf, n_resamples=300, seed=3)
    assert a.metrics == b.metrics
    assert a.metrics["f1"].method == "bootstrap"
    assert a.metrics["recall"].method == "wilson"
    assert a.metrics["f1"].low <= a.metrics["f1"].value <= a.metrics["f1"].high
    assert a.baselines["always_harmful"]["recall"] == 1.0
    assert a.baselines["always_harmful"]["precision"] == 0.3  # 30 gold positives / 100
    assert a.baselines["always_not_harmful"]["accuracy"] == 0.7
    assert math.isnan(a.baselines["always_not_harmful"]["precision"])


def test_wilson_matches_the_formula() -> None:
    # 8 of 10 at 95 %: z = 1.959964; centre = (0.8 + z²/20) / (1 + z²/10)
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z / (1 + z * z / 10) * math.sqrt(0.8 * 0.2 / 10 + z * z / 400)
    interval = wilson(8, 10)
    assert interval.low == pytest.approx(centre - half)
    assert interval.high == pytest.approx(centre + half)
    assert math.isnan(wilson(0, 0).low)


def test_wilson_coverage_on_simulated_data() -> None:
    rng = np.random.default_rng(11)
    hits = 0
    draws = 2000
    for _ in range(draws):
        truth = rng.uniform(0.1, 0.9)
        n = int(rng.integers(30, 200))
        k = int(rng.binomial(n, truth))
        interval = wilson(k, n)
        hits += interval.low <= truth <= interval.high
    assert 0.93 <= hits / draws <= 0.97


def test_bootstrap_coverage_on_simulated_data() -> None:
    rng = np.random.default_rng(5)
    # True cell probabilities [tp, fp, fn, tn] and the F1 and kappa they imply.
    cells = np.array([0.25, 0.05, 0.08, 0.62])
    truth_f1 = 2 * cells[0] / (2 * cells[0] + cells[1] + cells[2])
    hits = 0
    draws = 400
    for seed in range(draws):
        counts = rng.multinomial(300, cells)
        result = agreement_from_confusion(Confusion.from_array(counts), n_resamples=400, seed=seed)
        f1 = result.metrics["f1"]
        hits += f1.low <= truth_f1 <= f1.high
    assert 0.91 <= hits / draws <= 0.98


def test_cohen_kappa_between_annotators_matches_sklearn() -> None:
    rng = np.random.default_rng(2)
    a = {str(i): ("harmful" if rng.random() < 0.3 else "not_harmful") for i in range(80)}
    b = {
        k: (v if rng.random() < 0.8 else ("harmful" if v == "not_harmful" else "not_harmful"))
        for k, v in a.items()
    }
    ids = sorted(a)
    expected = sk.cohen_kappa_score([a[i] for i in ids], [b[i] for i in ids])
    assert cohen_kappa(a, b) == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(10))
def test_krippendorff_alpha_matches_the_package(seed: int) -> None:
    rng = np.random.default_rng(seed)
    raters, items = int(rng.integers(2, 5)), int(rng.integers(5, 40))
    data = rng.integers(0, 3, size=(raters, items)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    annotations = {
        f"r{r}": {str(i): int(data[r, i]) for i in range(items) if not np.isnan(data[r, i])}
        for r in range(raters)
    }
    ours = krippendorff_alpha_nominal(annotations)
    try:
        theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    except ValueError:
        theirs = math.nan
    assert same(ours, float(theirs))


def test_krippendorff_alpha_hand_worked() -> None:
    # Two raters, four items: x x / x y / y y / y y. Coincidences: x-x 2, x-y 1, y-x 1, y-y 4;
    # n = 8, n_x = 3, n_y = 5; D_o = 2/8; D_e = (64 - 9 - 25) / (8 * 7) = 30/56; alpha = 1 - (2/8)/(30/56)
    annotations = {
        "a": {"1": "x", "2": "x", "3": "y", "4": "y"},
        "b": {"1": "x", "2": "y", "3": "y", "4": "y"},
    }
    assert krippendorff_alpha_nominal(annotations) == pytest.approx(1 - (2 / 8) / (30 / 56))


def test_alt_test_judge_that_copies_the_majority_passes() -> None:
    rng = np.random.default_rng(0)
    truth = {str(i): ("harmful" if rng.random() < 0.4 else "not_harmful") for i in range(60)}

    def noisy(flip: float) -> dict[str, str]:
        return {
            k: (v if rng.random() > flip else ("harmful" if v == "not_harmful" else "not_harmful"))
            for k, v in truth.items()
        }

    humans = {"h1": noisy(0.2), "h2": noisy(0.2), "h3": noisy(0.2)}
    good = alt_test(humans, truth, epsilon=0.1)
    assert good.passed
    assert good.winning_rate >= 0.5
    bad = alt_test(humans, dict.fromkeys(truth, "harmful"), epsilon=0.1)
    assert not bad.passed
    assert bad.advantage_probability < good.advantage_probability


def test_alt_test_needs_three_annotators_and_thirty_items() -> None:
    two = {"a": {"1": "x"}, "b": {"1": "x"}}
    with pytest.raises(ValueError, match="needs at least 3 annotators; got 2"):
        alt_test(two, {"1": "x"})
    few = {k: {str(i): "x" for i in range(10)} for k in ("a", "b", "c")}
    with pytest.raises(ValueError, match="the alt-test needs at least 30"):
        alt_test(few, {str(i): "x" for i in range(10)})


def test_mcnemar_exact() -> None:
    # 9 items only A right, 1 only B right: two-sided binomial p = 2 * P(X <= 1 | 10, 0.5) = 22/1024
    a = [True] * 9 + [False] * 1 + [True] * 5
    b = [False] * 9 + [True] * 1 + [True] * 5
    result = mcnemar_exact(a, b)
    assert (result.only_a, result.only_b, result.both) == (9, 1, 5)
    assert result.p_value == pytest.approx(22 / 1024)
    assert mcnemar_exact([True, False], [True, False]).p_value == 1.0


def test_reliability_against_sklearn() -> None:
    rng = np.random.default_rng(9)
    p = rng.random(500)
    y = rng.random(500) < p
    result = reliability(p.tolist(), y.tolist(), n_bins=10)
    assert result.brier == pytest.approx(sk.brier_score_loss(y, p))
    prob_true, prob_pred = __import__(
        "sklearn.calibration", fromlist=["calibration_curve"]
    ).calibration_curve(y, p, n_bins=10)
    ours = [b for b in result.bins if b.count]
    assert [b.observed for b in ours] == pytest.approx(prob_true.tolist())
    assert [b.mean_p for b in ours] == pytest.approx(prob_pred.tolist())
    counts = np.array([b.count for b in ours])
    expected_ece = float(np.sum(counts / 500 * np.abs(prob_true - prob_pred)))
    assert result.ece == pytest.approx(expected_ece)


def test_threshold_reaches_target() -> None:
    p = [0.95, 0.9, 0.7, 0.6, 0.4, 0.3, 0.1]
    y = [True, True, False, True, True, False, False]
    # At 0.4: flagged 0.95 0.9 0.7 0.6 0.4 -> tp 4, fp 1: precision 0.8, recall 4/4.
    precise = threshold_for(p, y, target_precision=0.75)
    assert (precise.threshold, precise.precision, precise.recall) == (0.4, 0.8, 1.0)
    # Precision 1.0 is only reached at 0.9 (tp 2, fp 0): recall 2/4.
    strict = threshold_for(p, y, target_precision=1.0)
    assert (strict.threshold, strict.precision, strict.recall) == (0.9, 1.0, 0.5)
    full = threshold_for(p, y, target_recall=1.0)
    assert full.threshold == 0.4
    impossible = threshold_for([0.5], [False], target_precision=0.9)
    assert math.isnan(impossible.threshold)


def test_rogan_gladen() -> None:
    # se 0.8, sp 0.9, q 0.3: (0.3 + 0.9 - 1) / (0.8 + 0.9 - 1) = 0.2 / 0.7
    assert rogan_gladen(0.3, 0.8, 0.9) == pytest.approx(0.2 / 0.7)
    assert rogan_gladen(0.05, 0.8, 0.9) == 0.0  # clipped
    assert math.isnan(rogan_gladen(0.3, 0.5, 0.4))


def test_corrected_rate_interval_and_undefined_case() -> None:
    result = corrected_rate(
        run_harmful=300,
        run_judged=1000,
        gold_tp=40,
        gold_fn=10,
        gold_tn=180,
        gold_fp=20,
        n_resamples=500,
    )
    assert result.defined
    assert result.low < result.corrected < result.high
    chance = corrected_rate(
        run_harmful=300,
        run_judged=1000,
        gold_tp=25,
        gold_fn=25,
        gold_tn=90,
        gold_fp=110,
        n_resamples=100,
    )
    assert not chance.defined
    assert "sensitivity + specificity <= 1" in chance.note


def test_corrected_rate_coverage_on_simulated_runs() -> None:
    rng = np.random.default_rng(21)
    truth, se, sp = 0.2, 0.85, 0.9
    hits, draws = 0, 200
    for seed in range(draws):
        run = rng.random(1000) < truth
        said = np.where(run, rng.random(1000) < se, rng.random(1000) > sp)
        gold_pos, gold_neg = 60, 240
        tp = int(rng.binomial(gold_pos, se))
        tn = int(rng.binomial(gold_neg, sp))
        result = corrected_rate(
            run_harmful=int(said.sum()),
            run_judged=1000,
            gold_tp=tp,
            gold_fn=gold_pos - tp,
            gold_tn=tn,
            gold_fp=gold_neg - tn,
            n_resamples=400,
            seed=seed,
        )
        hits += result.low <= truth <= result.high
    assert 0.90 <= hits / draws <= 0.99
