"""Plain-text rendering of classifications for the terminal. The only place numbers are
rounded for display."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from harmjudge.judges.verdict import Classification, HarmVerdict, Label
from harmjudge.metrics.agreement import Agreement, Estimate
from harmjudge.metrics.evaluate import Evaluation

_SHORT = {Label.HARMFUL: "HARMFUL", Label.NOT_HARMFUL: "-", Label.UNJUDGED: "UNJUDGED"}


def format_confidence(value: float | None) -> str:
    """A confidence for display: two decimals, or an empty string when absent.

    >>> format_confidence(0.8571), format_confidence(None)
    ('0.86', '')
    """
    return "" if value is None else f"{value:.2f}"


def _cell(verdict: HarmVerdict) -> str:
    text = _SHORT[verdict.label]
    if verdict.label is Label.UNJUDGED and verdict.reason is not None:
        return f"{text} ({verdict.reason.value})"
    conf = format_confidence(verdict.confidence)
    return f"{text} {conf}" if conf else text


def verdict_table(results: Sequence[Classification], harms: Sequence[str]) -> str:
    """A fixed-width table: one row per transcript, one column per harm.

    Cells read ``HARMFUL 0.85``, ``- 0.95`` (not harmful) or ``UNJUDGED (reason)``.
    """
    header = ["id", *harms]
    rows = [
        [r.id, *(_cell(r.verdicts[h]) if h in r.verdicts else "" for h in harms)] for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_number(value: float | None, digits: int = 2) -> str:
    """A metric for display: fixed decimals, ``n/a`` when undefined.

    >>> format_number(0.8571), format_number(float("nan")), format_number(None)
    ('0.86', 'n/a', 'n/a')
    """
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.{digits}f}"


def _interval(estimate: Estimate) -> str:
    if estimate.method == "none" or math.isnan(estimate.low):
        return ""
    return f"[{format_number(estimate.low)}, {format_number(estimate.high)}]"


def _grid(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    ]


def metric_rows(result: Agreement, *, confidence: float) -> list[list[str]]:
    """The agreement table as display strings, header first: metric, estimate, interval and
    the two constant baselines. Text, HTML and Markdown reports all render these rows."""
    rows = [
        ["metric", "estimate", f"{confidence:.0%} interval", "always harmful", "always not harmful"]
    ]
    for name, estimate in result.metrics.items():
        rows.append(
            [
                name,
                format_number(estimate.value),
                _interval(estimate),
                format_number(result.baselines["always_harmful"][name]),
                format_number(result.baselines["always_not_harmful"][name]),
            ]
        )
    return rows


def agreement_block(title: str, result: Agreement, *, confidence: float) -> list[str]:
    """One harm's agreement: every metric with its interval, next to the constant baselines."""
    cov = result.coverage
    lines = [
        f"{title}: {cov.gold} gold items, {cov.scored} scored, {cov.unjudged} unjudged, "
        f"{cov.missing} without a verdict"
        + (f", {cov.no_gold} verdicts without gold" if cov.no_gold else ""),
    ]
    return lines + _grid(metric_rows(result, confidence=confidence))


SLICE_METRICS = ("precision", "recall", "f1")


def _prf_rows(what: str, scores: Mapping[str, Agreement]) -> list[list[str]]:
    """Precision, recall, F1 and items scored, one row per named score."""
    rows = [[what, *SLICE_METRICS, "scored"]]
    for name, scored in scores.items():
        values = (format_number(scored.metrics[m].value) for m in SLICE_METRICS)
        rows.append([name, *values, str(scored.coverage.scored)])
    return rows


def slice_rows(by_value: Mapping[str, Agreement]) -> list[list[str]]:
    """One slice's table, header first: value, items scored, precision, recall, F1."""
    rows = [["value", "scored", *SLICE_METRICS]]
    for value, result in by_value.items():
        rows.append(
            [
                value,
                str(result.coverage.scored),
                *(format_number(result.metrics[m].value) for m in SLICE_METRICS),
            ]
        )
    return rows


def evaluation_report(evaluation: Evaluation, *, slices: Sequence[str] = ()) -> str:
    """The compact terminal report of :func:`harmjudge.metrics.evaluate.evaluate`, with the
    ``slices`` named (the JSON result holds them all)."""
    out: list[str] = []
    confidence = evaluation.settings.confidence
    for judge in evaluation.judges.values():
        for harm, result in judge.overall.items():
            gold = "v1 + v2" if evaluation.version == "all" else evaluation.version
            out += agreement_block(
                f"{judge.name} · {harm} · {evaluation.split} split · gold {gold}",
                result,
                confidence=confidence,
            )
            by_version = judge.slices.get(harm, {}).get("version")
            if by_version:
                out += ["  by version:", *_grid(_prf_rows("version", by_version), "    ")]
            layers = judge.layers.get(harm)
            if layers:
                out += [
                    "  layers (gate alone, judge alone, gate then judge):",
                    *_grid(_prf_rows("layer", layers), "    "),
                ]
            for key in (k for k in slices if k != "version"):
                by_value = judge.slices.get(harm, {}).get(key)
                if by_value:
                    out += [f"  by {key}:", *_grid(slice_rows(by_value), "    ")]
            kinds = judge.kinds.get(harm)
            if kinds is not None:
                out.append(
                    f"  kinds: {kinds.agree}/{kinds.given} as the gold kind "
                    f"({format_number(kinds.accuracy)} [{format_number(kinds.low)}, "
                    f"{format_number(kinds.high)}]) on {kinds.items} items with one"
                    + (
                        f", {kinds.items - kinds.given} with none given"
                        if kinds.items > kinds.given
                        else ""
                    )
                )
            calibration = judge.calibration.get(harm)
            if calibration is not None:
                out.append(
                    f"  calibration: ECE {format_number(calibration.ece, 3)}, Brier {format_number(calibration.brier, 3)} over {calibration.n} items"
                )
            out.append("")
        for error in judge.input_errors:
            out.append(f"harmjudge: {error}")
    for harm, humans in evaluation.annotators.items():
        pairs = ", ".join(f"κ({k}) {format_number(v)}" for k, v in humans.pairwise_kappa.items())
        judges = "; ".join(
            f"{name} vs " + ", ".join(f"{p} κ {format_number(v)}" for p, v in per.items())
            for name, per in humans.judge_kappa.items()
        )
        out.append(f"annotators · {harm}: {pairs}, α {format_number(humans.alpha)}; {judges}")
        for name, alt in humans.alt_test.items():
            if alt.get("available") is False:
                out.append(f"  alt-test ({name}): not run, {alt['reason']}")
            else:
                verdict = "passes" if alt["passed"] else "fails"
                out.append(
                    f"  alt-test ({name}): {verdict}, winning rate {format_number(alt['winning_rate'])}, "
                    f"advantage probability {format_number(alt['advantage_probability'])} (ε {alt['epsilon']})"
                )
    for harm, tests in evaluation.comparisons.items():
        for pair, test in tests.items():
            out.append(
                f"McNemar · {harm} · {pair}: {test.only_a} vs {test.only_b} discordant items, p = {format_number(test.p_value, 4)}"
            )
    return "\n".join(out).rstrip() + "\n"
