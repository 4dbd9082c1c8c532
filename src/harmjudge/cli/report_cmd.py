"""``harmjudge report``: the static HTML audit report (and its Markdown twin)."""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from harmjudge._version import __version__
from harmjudge.classify import classify, resolve_judge
from harmjudge.cli.evaluate_cmd import add_judge_sources, gold_items, pairs
from harmjudge.errors import UsageError
from harmjudge.judges.llm import LLMJudge
from harmjudge.labels.model import GOLD_HARMS
from harmjudge.metrics.binary import UndefinedMetricWarning
from harmjudge.metrics.evaluate import SPLITS, evaluate
from harmjudge.metrics.verdicts import VerdictTable, read_verdicts, table_from_classifications
from harmjudge.report.data import build_report
from harmjudge.report.render_html import render_html
from harmjudge.report.render_markdown import render_markdown
from harmjudge.taxonomy.loader import Taxonomy

Handler = Callable[[argparse.Namespace, TextIO, TextIO], int]


def _records_from_file(path: str) -> dict[str, Mapping[str, Any]]:
    """harmjudge output records by id (other layouts give no records; their table is used)."""
    records: dict[str, Mapping[str, Any]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("verdicts"), dict) and "id" in record:
            records.setdefault(str(record["id"]), record)
    return records


def _records_from_table(table: VerdictTable) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for (item_id, harm), row in table.rows.items():
        records.setdefault(item_id, {"verdicts": {}})["verdicts"][harm] = {
            "label": row.label,
            "confidence": row.confidence,
        }
    return records


def cmd_report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Write the audit report: one self-contained HTML file showing where a judge and the gold
    labels disagree, with the evidence highlighted in each transcript, filters, stable links
    per case and reviewer marks that export as JSONL (import them with `harmjudge labels
    import-review`). --markdown writes the same summary and cases as Markdown.

    Example:

        harmjudge report --verdicts llm=verdicts.jsonl -o report.html --markdown report.md
    """
    gold = gold_items(args)
    harms = list(args.harm or GOLD_HARMS)
    chosen = [i for i in gold if args.split == "all" or i.split == args.split]
    if args.judge and args.verdicts:
        raise UsageError("report shows one judge: give --judge or --verdicts, not both")
    records: Mapping[str, Mapping[str, Any]]
    if args.verdicts:
        name, sep, path = args.verdicts.partition("=")
        path = path if sep else args.verdicts
        table = read_verdicts(
            [path],
            name=name if sep else None,
            fields=pairs(args.field, "--field"),
            labels=pairs(args.label, "--label"),
        )
        for error in table.errors:
            print(f"harmjudge: {error}", file=err)
        records = _records_from_file(path) or _records_from_table(table)
    else:
        spec = args.judge or "offline"
        judge = (
            resolve_judge("offline")
            if spec == "offline"
            else LLMJudge(spec, base_url=args.base_url)
        )
        taxonomy = Taxonomy.builtin()
        results = [classify(i.transcript(), harms, judge, taxonomy=taxonomy) for i in chosen]
        table = table_from_classifications(spec, results)
        records = {r.id: r.to_json() for r in results}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        evaluation = evaluate(
            gold,
            [table],
            harms=harms,
            split=args.split,
            slices=(),
            n_resamples=args.resamples,
            seed=args.seed,
        )
    report = build_report(
        gold, records, evaluation, judge=table.name, harms=harms, version=__version__
    )
    Path(args.output).write_text(render_html(report), encoding="utf-8")
    print(
        f"wrote {args.output}: {len(report.cases)} cases, {sum(1 for c in report.cases if not c.outcome.startswith('agree'))} to review",
        file=err,
    )
    if args.markdown:
        Path(args.markdown).write_text(
            render_markdown(report, agreements=args.agreements), encoding="utf-8"
        )
        print(f"wrote {args.markdown}", file=err)
    return 1 if table.errors else 0


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add: Callable[
        [str, Handler, argparse._SubParsersAction[argparse.ArgumentParser]], argparse.ArgumentParser
    ],
) -> None:
    """Add the report command to the ``harmjudge`` parser."""
    p = add("report", cmd_report, sub)
    add_judge_sources(p, repeatable=False)
    p.add_argument(
        "--split", choices=SPLITS, default="test", help="gold items to show (default: test)"
    )
    p.add_argument(
        "-o",
        "--output",
        default="report.html",
        metavar="FILE",
        help="the HTML file (default: report.html)",
    )
    p.add_argument("--markdown", metavar="FILE", help="also write the report as Markdown")
    p.add_argument("--agreements", action="store_true", help="list agreements in the Markdown too")
