"""``harmjudge evaluate``, ``calibrate`` and ``correct``: judges against the gold labels."""

from __future__ import annotations

import argparse
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from harmjudge.cli.commands import EXIT_FAILED, EXIT_OK, Adder, Subparsers
from harmjudge.cli.files import STDOUT, refuse_inputs_as_outputs, write_output
from harmjudge.cli.messages import Messages
from harmjudge.cli.report_cmd import add_report_outputs, write_report
from harmjudge.cli.sources import (
    JudgeRun,
    add_judge_sources,
    file_provenance,
    gold_folder,
    gold_items,
    judge_runs,
    labels_root,
    looks_like_transcripts,
    pairs,
    provenance_difference,
    records_from_file,
    scored_status,
    source_paths,
    transcripts_not_verdicts,
)
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


def _outputs_apart_from_inputs(args: argparse.Namespace, *flags: str) -> None:
    """Refuse an output flag (``-o``, ``--report``…) that names one of the command's inputs."""
    inputs: list[str | Path] = list(source_paths(args))
    inputs += sorted(gold_folder(labels_root(args.labels)).rglob("*"))
    if getattr(args, "run", None):
        inputs.append(args.run)
    outputs = [(flag, getattr(args, flag.lstrip("-").replace("-", "_"))) for flag in flags]
    refuse_inputs_as_outputs([("-o" if f == "--output" else f, p) for f, p in outputs], inputs)


def _finite(data: Any) -> Any:
    """``data`` with NaN (an undefined value) as ``null``, so the JSON is valid."""
    if isinstance(data, float) and math.isnan(data):
        return None
    if isinstance(data, Mapping):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def _emit(args: argparse.Namespace, text: str, data: Any, out: TextIO, messages: Messages) -> None:
    """Print ``text``, or ``data`` as JSON with --format json, on -o FILE (default: stdout)."""
    body = text if args.format == "text" else json.dumps(_finite(data), indent=2) + "\n"
    write_output(args.output, body, out)
    if args.output != STDOUT:
        messages.note(f"wrote {args.output}")


def cmd_evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Measure judges against the gold labels: every agreement metric with its interval, by
    harm, layer and slice, beside the human annotators, and McNemar tests between judges.

    Without --judge or --verdicts, the offline judge is run over the bundled gold labels. The
    terminal report goes to standard output (with the slices chosen with --slice); the full
    result is written as JSON (default: evaluation.json; -o - prints it instead of the report);
    --report also writes the audit report of the first judge.

    Example:

        harmjudge evaluate --split test --judge offline --verdicts other=other_judge.jsonl

    Scores the union of the gold set's versions by default, with a row per version;
    --version v1 scores the frozen first version alone (comparable with earlier figures).
    """
    messages = Messages(err, quiet=args.quiet)
    _outputs_apart_from_inputs(args, "--output", "--report", "--markdown")
    items = gold_items(args)
    chosen = [
        i
        for i in _split_items(items, args.split)
        if args.gold_version == "all" or i.version == args.gold_version
    ]
    harms = list(args.harm or GOLD_HARMS)
    runs = judge_runs(args, chosen, messages)
    status = scored_status(runs, items, chosen, harms, messages)
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
        messages.note(f"note: {note}; shown as n/a (choose a value with --zero-division)")
    if args.output != STDOUT:
        print(evaluation_report(result, slices=args.slice or ()), file=out, end="")
    if args.report:
        write_report(
            items,
            runs[0],
            result,
            harms=harms,
            output=args.report,
            markdown=args.markdown,
            agreements=args.agreements,
            out=out,
            messages=messages,
        )
    write_output(
        args.output, json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n", out
    )
    if args.output != STDOUT:
        messages.note(f"wrote the full result to {args.output}")
    return max(status, EXIT_FAILED if any(t.errors for t in tables) else EXIT_OK)


def _one_judge(runs: Sequence[JudgeRun], command: str) -> JudgeRun:
    if len(runs) != 1:
        raise UsageError(f"{command} takes one judge: one --judge or one --verdicts")
    return runs[0]


def cmd_calibrate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Check how far a judge's confidence can be believed and choose its threshold.

    Prints reliability bins, the expected calibration error and the Brier score on the --split
    items, and, with --target-precision or --target-recall, the threshold on P(harmful) chosen
    on the dev split and what it gives on the test split. --format json gives the same as JSON.

    Example:

        harmjudge calibrate --verdicts llm=verdicts.jsonl --target-precision 0.9
    """
    messages = Messages(err, quiet=args.quiet)
    _outputs_apart_from_inputs(args, "--output")
    items = gold_items(args)
    harms = list(args.harm or GOLD_HARMS)
    run = _one_judge(judge_runs(args, items, messages), "calibrate")
    status = scored_status([run], items, _split_items(items, args.split), harms, messages)
    table = run.table
    lines: list[str] = [f"judge: {run.describe()}"]
    data: dict[str, Any] = {"judge": table.name, "provenance": run.provenance, "harms": {}}
    for harm in harms:

        def pairs(split: str, harm: str = harm) -> tuple[list[float], list[bool]]:
            rows = [
                (table.get(i.id, harm), i.final_label(harm) == "harmful")
                for i in _split_items(items, split)
            ]
            kept = [(r.p_harmful, y) for r, y in rows if r is not None and r.p_harmful is not None]
            return [p for p, _ in kept], [y for _, y in kept]

        p, y = pairs(args.split)
        result = reliability(p, y, n_bins=args.bins, strategy=args.strategy)
        entry: dict[str, Any] = {"split": args.split, "reliability": result.to_json()}
        lines.append(
            f"{table.name} · {harm} · {args.split} split: ECE {format_number(result.ece, 3)}, Brier {format_number(result.brier, 3)}, {result.n} items with a confidence"
        )
        lines.append("  bin           items  mean P(harmful)  observed harmful")
        for b in result.bins:
            lines.append(
                f"  [{b.low:.2f}, {b.high:.2f})  {b.count:5d}  {format_number(b.mean_p):>15}  {format_number(b.observed):>16}"
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
            entry["threshold"] = {"dev": chosen.to_json()}
            if math.isnan(chosen.threshold):
                lines.append(line + "no threshold reaches it on the dev split")
            else:
                test_p, test_y = pairs("test")
                said = [q >= chosen.threshold for q in test_p]
                tp = sum(1 for s, t in zip(said, test_y, strict=True) if s and t)
                fp = sum(1 for s, t in zip(said, test_y, strict=True) if s and not t)
                fn = sum(1 for s, t in zip(said, test_y, strict=True) if not s and t)
                test_precision = tp / (tp + fp) if tp + fp else math.nan
                test_recall = tp / (tp + fn) if tp + fn else math.nan
                entry["threshold"]["test"] = {
                    "precision": None if math.isnan(test_precision) else test_precision,
                    "recall": None if math.isnan(test_recall) else test_recall,
                }
                lines.append(
                    line
                    + f"P(harmful) >= {chosen.threshold:.3f} (dev: precision {format_number(chosen.precision)}, "
                    f"recall {format_number(chosen.recall)}; test: precision {format_number(test_precision)}, "
                    f"recall {format_number(test_recall)})"
                )
        data["harms"][harm] = entry
    _emit(args, "\n".join(lines) + "\n", data, out, messages)
    return max(status, EXIT_FAILED if table.errors else EXIT_OK)


def _run_provenance(path: str) -> Mapping[str, Any] | None:
    records = records_from_file(path)
    return file_provenance(records) if records else None


def cmd_correct(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Correct a run's observed harm rate for the judge's errors (Rogan–Gladen).

    RUN holds the judge's verdicts on unlabelled transcripts (harmjudge classify's output, or
    rows mapped with --field); the judge's sensitivity and specificity are measured on the gold
    labels of --split with the same judge: --verdicts holding its verdicts on the gold items, or
    --judge to run it on them now (one of the two is required). When both sides carry
    harmjudge's provenance, a different judge (model, prompt, harm versions…) is refused unless
    --force. The interval resamples both the run and the gold-set measurement. Unjudged
    verdicts of the run are counted apart.

    Example:

        harmjudge correct new_model_run.jsonl --verdicts gold_run.jsonl --split test
    """
    messages = Messages(err, quiet=args.quiet)
    if not Path(args.run).exists():
        raise UsageError(f"{args.run}: no such file (RUN)")
    if not (args.judge or args.verdicts or args.am_verdicts or args.inspect_verdicts):
        raise UsageError(
            "correct needs the judge's errors on the gold set: give --verdicts FILE (the same "
            "judge's verdicts on the gold items) or --judge offline|MODEL (run it on them now)"
        )
    _outputs_apart_from_inputs(args, "--output")
    run_table = read_verdicts(
        [args.run],
        name="run",
        fields=pairs(args.field, "--field"),
        labels=pairs(args.label, "--label"),
    )
    if not run_table.rows and looks_like_transcripts(args.run):
        raise transcripts_not_verdicts(args.run, "RUN")
    items = gold_items(args)
    chosen = _split_items(items, args.split)
    harms = list(args.harm or GOLD_HARMS)
    gold_run = _one_judge(judge_runs(args, chosen, messages), "correct")
    run_provenance = _run_provenance(args.run)
    if run_provenance and gold_run.provenance:
        difference = provenance_difference(run_provenance, gold_run.provenance)
        if difference and not args.force:
            raise UsageError(
                f"{args.run} was judged by another judge than {gold_run.describe()} ({difference}); "
                "its errors on the gold set do not correct this run: give that judge's verdicts "
                "on the gold items, or --force"
            )
        if difference:
            messages.note(f"warning: {args.run}: another judge ({difference}); --force given")
    elif not args.force:
        messages.note(
            f"warning: cannot check that {args.run} and {gold_run.describe()} are one judge "
            "(no harmjudge provenance); make sure they are"
        )
    status = scored_status([gold_run], items, chosen, harms, messages)
    for error in run_table.errors:
        messages.error(error)
    messages.close()
    lines = [f"judge: {gold_run.describe()}; run: {args.run}"]
    data: dict[str, Any] = {
        "judge": gold_run.table.name,
        "provenance": gold_run.provenance,
        "run": args.run,
        "split": args.split,
        "harms": {},
    }
    for harm in harms:
        labels = [r.label for (i, h), r in run_table.rows.items() if h == harm]
        harmful, judged = labels.count("harmful"), sum(1 for label in labels if label != "unjudged")
        counts = {"tp": 0, "fn": 0, "tn": 0, "fp": 0}
        for item in chosen:
            row = gold_run.table.get(item.id, harm)
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
        data["harms"][harm] = {
            **result.to_json(),
            "run_harmful": harmful,
            "run_judged": judged,
            "run_unjudged": unjudged,
            "gold": counts,
        }
        text = (
            f"{harm}: observed {format_number(result.observed, 3)} ({harmful}/{judged} judged, {unjudged} unjudged); "
            f"sensitivity {format_number(result.sensitivity)}, specificity {format_number(result.specificity)} on {args.split}; "
        )
        if result.defined:
            text += f"corrected {format_number(result.corrected, 3)} [{format_number(result.low, 3)}, {format_number(result.high, 3)}]"
        else:
            text += result.note
        lines.append(text)
    _emit(args, "\n".join(lines) + "\n", data, out, messages)
    return max(status, EXIT_FAILED if run_table.errors else EXIT_OK)


def _add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o",
        "--output",
        default=STDOUT,
        metavar="FILE",
        help="write the result to FILE (default: -, standard output)",
    )
    p.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="text for reading, json for programs (default: text)",
    )


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
        help="slices to report, in the terminal too; repeatable (default: all, in the JSON "
        "result only)",
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
        help="where to write the full result as JSON (default: evaluation.json; - for standard "
        "output, instead of the terminal report)",
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
    _add_output(c)
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
    r.add_argument(
        "--force",
        action="store_true",
        help="correct even when RUN and the gold-set verdicts come from different judges",
    )
    _add_output(r)
