"""``harmjudge evaluate``, ``calibrate`` and ``correct``: judges against the gold labels."""

from __future__ import annotations

import argparse
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from harmjudge.cli.commands import Adder, Subparsers
from harmjudge.cli.report_cmd import add_report_outputs, write_report
from harmjudge.cli.sources import add_judge_sources, gold_items, judge_runs, pairs
from harmjudge.errors import UsageError
from harmjudge.labels.model import GOLD_HARMS, GoldItem
from harmjudge.metrics.binary import UndefinedMetricWarning
from harmjudge.metrics.calibration import reliability, threshold_for
from harmjudge.metrics.evaluate import SLICES, SPLITS, VERSIONS, evaluate
from harmjudge.metrics.prevalence import corrected_rate
from harmjudge.metrics.verdicts import read_verdicts
from harmjudge.report.render_text import evaluation_report, format_number


def _split_items(items: Sequence[GoldItem], split: str) -> list[GoldItem]:
    return [i for i in items if split == "all" or i.split == split]


def cmd_evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Measure judges against the gold labels: every agreement metric with its interval, by harm,
    layer and slice, beside the human annotators, and McNemar tests between judges.

    Without --judge or --verdicts, the offline judge is run over the bundled gold labels. The
    full result is written as JSON (default: evaluation.json); --report also writes the audit
    report of the first judge.

    Example:

        harmjudge evaluate --split test --judge offline --verdicts other=other_judge.jsonl

    Scores the union of the gold set's versions by default, with a row per version;
    --version v1 scores the frozen first version alone (comparable with earlier figures).
    """
    items = gold_items(args)
    chosen = [
        i
        for i in _split_items(items, args.split)
        if args.gold_version == "all" or i.version == args.gold_version
    ]
    runs = judge_runs(args, chosen, err)
    tables = [r.table for r in runs]
    zero_division: str | float = (
        args.zero_division if args.zero_division == "warn" else float(args.zero_division)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UndefinedMetricWarning)
        result = evaluate(
            items,
            tables,
            harms=args.harm,
            split=args.split,
            version=args.gold_version,
            slices=args.slice or SLICES,
            confidence=args.confidence,
            n_resamples=args.resamples,
            seed=args.seed,
            zero_division=zero_division,  # type: ignore[arg-type]
            n_bins=args.bins,
        )
    notes = dict.fromkeys(
        str(w.message).split(";")[0]
        for w in caught
        if issubclass(w.category, UndefinedMetricWarning)
    )
    for note in notes:
        print(
            f"harmjudge: note: {note}; shown as n/a (choose a value with --zero-division)", file=err
        )
    print(evaluation_report(result), file=out, end="")
    if args.report:
        harms = list(args.harm or GOLD_HARMS)
        write_report(
            items,
            runs[0],
            result,
            harms=harms,
            output=args.report,
            markdown=args.markdown,
            agreements=args.agreements,
            err=err,
        )
    Path(args.output).write_text(
        json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote the full result to {args.output}", file=err)
    return 1 if any(t.errors for t in tables) else 0


def cmd_calibrate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Check how far a judge's confidence can be believed and choose its threshold.

    Prints reliability bins, the expected calibration error and the Brier score on the --split
    items, and, with --target-precision or --target-recall, the threshold on P(harmful) chosen
    on the dev split and what it gives on the test split.

    Example:

        harmjudge calibrate --verdicts llm=verdicts.jsonl --target-precision 0.9
    """
    items = gold_items(args)
    tables = [r.table for r in judge_runs(args, items, err)]
    if len(tables) != 1:
        raise UsageError("calibrate takes one judge: one --judge or one --verdicts")
    table = tables[0]
    for harm in args.harm or GOLD_HARMS:

        def pairs(split: str, harm: str = harm) -> tuple[list[float], list[bool]]:
            rows = [
                (table.get(i.id, harm), i.final_label(harm) == "harmful")
                for i in _split_items(items, split)
            ]
            kept = [(r.p_harmful, y) for r, y in rows if r is not None and r.p_harmful is not None]
            return [p for p, _ in kept], [y for _, y in kept]

        p, y = pairs(args.split)
        result = reliability(p, y, n_bins=args.bins, strategy=args.strategy)
        print(
            f"{table.name} · {harm} · {args.split} split: ECE {format_number(result.ece, 3)}, Brier {format_number(result.brier, 3)}, {result.n} items with a confidence",
            file=out,
        )
        print("  bin           items  mean P(harmful)  observed harmful", file=out)
        for b in result.bins:
            print(
                f"  [{b.low:.2f}, {b.high:.2f})  {b.count:5d}  {format_number(b.mean_p):>15}  {format_number(b.observed):>16}",
                file=out,
            )
        if args.target_precision is not None or args.target_recall is not None:
            dev_p, dev_y = pairs("dev")
            chosen = threshold_for(
                dev_p,
                dev_y,
                target_precision=args.target_precision,
                target_recall=args.target_recall,
            )
            line = f"  threshold for {chosen.target} >= {chosen.goal}: "
            if math.isnan(chosen.threshold):
                print(line + "no threshold reaches it on the dev split", file=out)
            else:
                test_p, test_y = pairs("test")
                tp = sum(
                    1 for q, t in zip(test_p, test_y, strict=True) if q >= chosen.threshold and t
                )
                fp = sum(
                    1
                    for q, t in zip(test_p, test_y, strict=True)
                    if q >= chosen.threshold and not t
                )
                fn = sum(
                    1 for q, t in zip(test_p, test_y, strict=True) if q < chosen.threshold and t
                )
                test_precision = tp / (tp + fp) if tp + fp else math.nan
                test_recall = tp / (tp + fn) if tp + fn else math.nan
                print(
                    line
                    + f"P(harmful) >= {chosen.threshold:.3f} (dev: precision {format_number(chosen.precision)}, "
                    f"recall {format_number(chosen.recall)}; test: precision {format_number(test_precision)}, "
                    f"recall {format_number(test_recall)})",
                    file=out,
                )
    return 0


def cmd_correct(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Correct a run's observed harm rate for the judge's errors (Rogan–Gladen).

    RUN holds the judge's verdicts on unlabelled transcripts; the judge's sensitivity and
    specificity are measured on the gold labels of --split with the same judge (--judge, or
    --verdicts holding its verdicts on the gold items). The interval resamples both the run and
    the gold-set measurement. Unjudged verdicts of the run are counted apart.

    Example:

        harmjudge correct new_model_run.jsonl --verdicts gold_run.jsonl --split test
    """
    items = _split_items(gold_items(args), args.split)
    tables = [r.table for r in judge_runs(args, items, err)]
    if len(tables) != 1:
        raise UsageError("correct takes one judge: one --judge or one --verdicts")
    gold_table = tables[0]
    run = read_verdicts(
        [args.run],
        name="run",
        fields=pairs(args.field, "--field"),
        labels=pairs(args.label, "--label"),
    )
    for error in run.errors:
        print(f"harmjudge: {error}", file=err)
    for harm in args.harm or GOLD_HARMS:
        labels = [r.label for (i, h), r in run.rows.items() if h == harm]
        harmful, judged = labels.count("harmful"), sum(1 for label in labels if label != "unjudged")
        counts = {"tp": 0, "fn": 0, "tn": 0, "fp": 0}
        for item in items:
            row = gold_table.get(item.id, harm)
            if row is None or row.label == "unjudged":
                continue
            truth, said = item.final_label(harm) == "harmful", row.label == "harmful"
            counts[("tp" if said else "fn") if truth else ("fp" if said else "tn")] += 1
        result = corrected_rate(
            run_harmful=harmful,
            run_judged=judged,
            gold_tp=counts["tp"],
            gold_fn=counts["fn"],
            gold_tn=counts["tn"],
            gold_fp=counts["fp"],
            confidence=args.confidence,
            n_resamples=args.resamples,
            seed=args.seed,
        )
        unjudged = len(labels) - judged
        text = (
            f"{harm}: observed {format_number(result.observed, 3)} ({harmful}/{judged} judged, {unjudged} unjudged); "
            f"sensitivity {format_number(result.sensitivity)}, specificity {format_number(result.specificity)} on {args.split}; "
        )
        if result.defined:
            text += f"corrected {format_number(result.corrected, 3)} [{format_number(result.low, 3)}, {format_number(result.high, 3)}]"
        else:
            text += result.note
        print(text, file=out)
    return 1 if run.errors else 0


def register(sub: Subparsers, add: Adder) -> None:
    """Add the evaluate, calibrate and correct commands to the ``harmjudge`` parser."""
    e = add("evaluate", cmd_evaluate, sub)
    add_judge_sources(e)
    e.add_argument(
        "--split", choices=SPLITS, default="test", help="gold items to score (default: test)"
    )
    e.add_argument(
        "--version",
        dest="gold_version",
        choices=VERSIONS,
        default="all",
        help="gold-set version to score: v1 (frozen), v2, or all (their union, with a row per "
        "version; default: all)",
    )
    e.add_argument(
        "--slice",
        action="append",
        choices=SLICES,
        help="slices to report; repeatable (default: all)",
    )
    e.add_argument(
        "--zero-division",
        default="warn",
        choices=["warn", "0", "1", "nan"],
        help="value of undefined metrics (default: warn, reported as n/a)",
    )
    e.add_argument("--bins", type=int, default=10, help="reliability bins (default: 10)")
    e.add_argument(
        "-o",
        "--output",
        default="evaluation.json",
        metavar="FILE",
        help="where to write the full result (default: evaluation.json)",
    )
    add_report_outputs(e, default=None)

    c = add("calibrate", cmd_calibrate, sub)
    add_judge_sources(c)
    c.add_argument(
        "--split",
        choices=SPLITS,
        default="test",
        help="items for the reliability table (default: test)",
    )
    c.add_argument("--bins", type=int, default=10, help="number of bins (default: 10)")
    c.add_argument(
        "--strategy",
        choices=["uniform", "quantile"],
        default="uniform",
        help="bin edges (default: uniform)",
    )
    target = c.add_mutually_exclusive_group()
    target.add_argument(
        "--target-precision",
        type=float,
        metavar="P",
        help="choose the threshold reaching this precision on dev",
    )
    target.add_argument(
        "--target-recall",
        type=float,
        metavar="R",
        help="choose the threshold reaching this recall on dev",
    )

    r = add("correct", cmd_correct, sub)
    r.add_argument("run", metavar="RUN", help="the judge's verdicts on the unlabelled run (JSONL)")
    add_judge_sources(r)
    r.add_argument(
        "--split",
        choices=SPLITS,
        default="test",
        help="gold items measuring the judge (default: test)",
    )
