"""``harmjudge rates``: harmful rate per model × condition, with intervals and corrections."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from harmjudge.batch.records import classification_from_json
from harmjudge.cli.commands import EXIT_FAILED, EXIT_OK, Adder, Subparsers
from harmjudge.cli.files import refuse_inputs_as_outputs, write_output
from harmjudge.cli.messages import Messages
from harmjudge.cli.sources import BUILTIN, gold_items, provenance_difference
from harmjudge.errors import InputError, UsageError
from harmjudge.judges.verdict import Classification, Label
from harmjudge.labels.model import GoldItem
from harmjudge.metrics.rates import DEFAULT_BY, GoldCounts, GroupRate, group_rates
from harmjudge.report.render_text import format_number
from harmjudge.report.svg import rates_svg


def _classifications(
    paths: Sequence[str], messages: Messages, skipped: list[str]
) -> Iterator[Classification]:
    """The classification records of ``paths`` (``-`` is stdin). Error records (items classify
    could not read) are counted in ``skipped``; bad lines are reported one line each. Neither
    stops the reading."""
    for path in paths:
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: cannot open ({exc.strerror})") from None
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if isinstance(data, dict) and "error" in data and "verdicts" not in data:
                    skipped.append(str(data.get("id", f"{path}:{number}")))
                    continue
                if not isinstance(data, dict) or "verdicts" not in data:
                    raise ValueError("not a verdict record (run harmjudge classify first)")
                yield classification_from_json(data)
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                messages.error(InputError(str(exc) or "bad record", source=path, line=number))


def _provenance(results: Sequence[Classification], what: str) -> dict[str, Any]:
    found = {json.dumps(r.provenance.to_json(), sort_keys=True) for r in results}
    if len(found) > 1:
        raise UsageError(f"{what} mix {len(found)} judges; give one judge's verdicts")
    return json.loads(found.pop()) if found else {}


def _gold_counts(
    items: Sequence[GoldItem], verdicts: Sequence[Classification]
) -> dict[str, GoldCounts]:
    by_id = {v.id: v for v in verdicts}
    counts: dict[str, dict[str, int]] = {}
    for item in items:
        result = by_id.get(item.id)
        if result is None:
            continue
        for harm, verdict in result.verdicts.items():
            if harm not in item.gold or verdict.label is Label.UNJUDGED:
                continue
            truth, said = item.final_label(harm) == "harmful", verdict.label is Label.HARMFUL
            cell = ("tp" if said else "fn") if truth else ("fp" if said else "tn")
            tally = counts.setdefault(harm, {"tp": 0, "fn": 0, "tn": 0, "fp": 0})
            tally[cell] += 1
    return {harm: GoldCounts(**tally) for harm, tally in counts.items()}


def _table(rows: Sequence[GroupRate], by: Sequence[str]) -> str:
    corrected = any(r.corrected is not None for r in rows)
    header = [*by, "harm", "n", "harmful", "unjudged", "rate", "95% interval", "kinds"]
    if corrected:
        header += ["corrected", "corrected interval"]
    lines = [header]
    for r in rows:
        line = [
            *(v for _, v in r.group),
            r.harm,
            str(r.items),
            str(r.harmful),
            str(r.unjudged),
            format_number(r.rate),
            f"[{format_number(r.low)}, {format_number(r.high)}]",
            " ".join(f"{k}={n}" for k, n in r.kinds.items()) or "-",
        ]
        if corrected:
            c = r.corrected
            if c is None or not c.defined:
                line += ["n/a", c.note if c is not None else ""]
            else:
                line += [
                    format_number(c.corrected),
                    f"[{format_number(c.low)}, {format_number(c.high)}]",
                ]
        lines.append(line)
    widths = [max(len(cell) for cell in column) for column in zip(*lines, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


_COLUMNS = (
    "harm",
    "items",
    "harmful",
    "judged",
    "unjudged",
    "rate",
    "low",
    "high",
    "kinds",
    "corrected",
    "corrected_low",
    "corrected_high",
)


def _csv(rows: Sequence[GroupRate], by: Sequence[str]) -> str:
    sink = io.StringIO()
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow([*by, *_COLUMNS])
    for r in rows:
        c = r.corrected
        writer.writerow(
            [*(v for _, v in r.group), r.harm, r.items, r.harmful, r.judged, r.unjudged]
            + [r.rate, r.low, r.high, json.dumps(dict(r.kinds))]
            + ([c.corrected, c.low, c.high] if c is not None else ["", "", ""])
        )
    return sink.getvalue()


def cmd_rates(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The study's headline table, done right: harmful rate per group (by default model ×
    condition) with n, unjudged items apart, a Wilson interval and, with --gold-verdicts, the
    rate corrected for the judge's errors measured on the gold labels.

    VERDICTS are the records `harmjudge classify` wrote (their metadata holds the groups; the
    study's results folders give model, condition, scenario, goal_type, goal_value, urgency).
    A record whose metadata names its scenario's harm counts for that harm only.

    Example:

        harmjudge classify --from am-results results/ -o verdicts.jsonl
        harmjudge classify labels/ -o gold_verdicts.jsonl
        harmjudge rates verdicts.jsonl --gold-verdicts gold_verdicts.jsonl --plot rates.svg
    """
    messages = Messages(err, quiet=args.quiet)
    inputs = [*args.verdicts, *([args.gold_verdicts] if args.gold_verdicts else [])]
    refuse_inputs_as_outputs([("-o", args.output), ("--plot", args.plot)], inputs)
    skipped: list[str] = []
    results = list(_classifications(args.verdicts, messages, skipped))
    if not results:
        raise UsageError("no verdict records in the input: run harmjudge classify first")
    by = tuple(args.by) if args.by else DEFAULT_BY
    gold = None
    judge = _provenance(results, "the verdicts")
    if args.gold_verdicts:
        measured = list(_classifications([args.gold_verdicts], messages, []))
        reference = _provenance(measured, "the gold verdicts")
        difference = provenance_difference(judge, reference)
        if difference and not args.force:
            raise UsageError(
                f"{args.gold_verdicts}: the gold verdicts come from another judge than the run "
                f"({difference}); correct with the same judge, or pass --force"
            )
        if difference:
            messages.note(f"warning: the gold verdicts come from another judge ({difference})")
        items = [i for i in gold_items(args) if args.split == "all" or i.split == args.split]
        gold = _gold_counts(items, measured)
        if not gold:
            raise UsageError(
                f"no gold verdict matches a gold item of the {args.split} split: classify the "
                "gold labels (harmjudge classify labels/) with the run's judge"
            )
    rows = group_rates(
        results,
        by=by,
        harms=args.harm,
        scenario_harm=not args.all_harms,
        gold=gold,
        confidence=args.confidence,
        n_resamples=args.resamples,
        seed=args.seed,
    )
    if args.format == "json":
        text = json.dumps({"judge": judge, "by": list(by), "rows": [r.to_json() for r in rows]})
        text += "\n"
    elif args.format == "csv":
        text = _csv(rows, by)
    else:
        name = judge.get("model") or judge.get("judge")
        text = f"harmful rate by {' × '.join(by)} · judge {name}\n{_table(rows, by)}\n"
    if skipped:
        messages.note(f"{len(skipped)} error records left out (items classify could not read)")
    write_output(args.output, text, out)
    if args.plot:
        write_output(args.plot, rates_svg(rows, title=f"Harmful rate by {', '.join(by)}"), out)
    messages.close()
    return EXIT_FAILED if messages.errors else EXIT_OK


def register(sub: Subparsers, add: Adder) -> None:
    """Add the rates command to the ``harmjudge`` parser."""
    r = add("rates", cmd_rates, sub)
    r.add_argument(
        "verdicts", nargs="+", metavar="VERDICTS", help="verdict JSONL files (- = stdin)"
    )
    r.add_argument(
        "--by",
        action="append",
        metavar="FIELD",
        help="a metadata field to group by; repeatable (default: model and condition)",
    )
    r.add_argument("--harm", action="append", help="harms to report; repeatable (default: all)")
    r.add_argument(
        "--all-harms",
        action="store_true",
        help="count every harm of every record, not only its scenario's harm",
    )
    r.add_argument(
        "--gold-verdicts",
        metavar="FILE",
        help="the same judge's verdicts on the gold labels: correct each rate for its errors",
    )
    r.add_argument(
        "--gold",
        dest="labels",
        metavar="LABELS",
        default=BUILTIN,
        help=f"the gold labels the gold verdicts are measured on (default: {BUILTIN}, the "
        "bundled set)",
    )
    r.add_argument(
        "--split",
        choices=["dev", "test", "all"],
        default="test",
        help="gold items measuring the judge (default: test)",
    )
    r.add_argument(
        "--force", action="store_true", help="correct even when the two judges' provenance differ"
    )
    r.add_argument("--confidence", type=float, default=0.95, help="interval level (default: 0.95)")
    r.add_argument(
        "--resamples", type=int, default=2000, help="bootstrap resamples (default: 2000)"
    )
    r.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    r.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="(default: table)"
    )
    r.add_argument(
        "-o", "--output", default="-", metavar="FILE", help="where to write (default: - = stdout)"
    )
    r.add_argument("--plot", metavar="FILE.svg", help="also draw a dot-and-interval plot (SVG)")
