"""``harmjudge report``: the static HTML audit report (and its Markdown twin)."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence
from typing import TextIO

from harmjudge._version import __version__
from harmjudge.cli.commands import EXIT_FAILED, EXIT_OK, Adder, Subparsers
from harmjudge.cli.files import refuse_inputs_as_outputs, write_output
from harmjudge.cli.messages import Messages
from harmjudge.cli.sources import (
    JudgeRun,
    add_judge_sources,
    gold_folder,
    gold_items,
    judge_runs,
    labels_root,
    scored_status,
    source_paths,
)
from harmjudge.errors import UsageError
from harmjudge.labels.model import GOLD_HARMS, GoldItem
from harmjudge.metrics.binary import UndefinedMetricWarning
from harmjudge.metrics.evaluate import SPLITS, Evaluation, evaluate
from harmjudge.report.data import build_report
from harmjudge.report.render_html import render_html
from harmjudge.report.render_markdown import render_markdown


def write_report(
    gold: Sequence[GoldItem],
    run: JudgeRun,
    evaluation: Evaluation,
    *,
    harms: Sequence[str],
    output: str,
    markdown: str | None,
    agreements: bool,
    out: TextIO,
    messages: Messages,
) -> None:
    """Build the report of one judge's run and write its HTML (and Markdown) files (``-``:
    standard output)."""
    report = build_report(
        gold, run.records, evaluation, judge=run.table.name, harms=harms, version=__version__
    )
    write_output(output, render_html(report), out)
    to_review = sum(1 for c in report.cases if not c.outcome.startswith("agree"))
    messages.note(f"wrote {output}: {len(report.cases)} cases, {to_review} to review")
    if markdown:
        write_output(markdown, render_markdown(report, agreements=agreements), out)
        messages.note(f"wrote {markdown}")


def cmd_report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Write the audit report: one self-contained HTML file showing where a judge and the gold
    labels disagree, with the evidence highlighted in each transcript, filters, stable links
    per case and reviewer marks that export as JSONL (import them with `harmjudge labels
    import-review`). --markdown writes the same summary and cases as Markdown.

    Example:

        harmjudge report --verdicts llm=verdicts.jsonl -o report.html --markdown report.md
    """
    messages = Messages(err, quiet=args.quiet)
    if args.judge and args.verdicts:
        raise UsageError("report shows one judge: give --judge or --verdicts, not both")
    refuse_inputs_as_outputs(
        [("-o", args.output), ("--markdown", args.markdown)],
        [*source_paths(args), *sorted(gold_folder(labels_root(args.labels)).rglob("*"))],
    )
    gold = gold_items(args)
    harms = list(args.harm or GOLD_HARMS)
    chosen = [i for i in gold if args.split == "all" or i.split == args.split]
    (run,) = judge_runs(args, chosen, messages)
    status = scored_status([run], gold, chosen, harms, messages)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        evaluation = evaluate(
            gold,
            [run.table],
            harms=harms,
            split=args.split,
            slices=(),
            confidence=args.confidence,
            n_resamples=args.resamples,
            seed=args.seed,
        )
    write_report(
        gold,
        run,
        evaluation,
        harms=harms,
        output=args.output,
        markdown=args.markdown,
        agreements=args.agreements,
        out=out,
        messages=messages,
    )
    return max(status, EXIT_FAILED if run.table.errors else EXIT_OK)


def add_report_outputs(p: argparse.ArgumentParser, *, default: str | None) -> None:
    """-o/--report for the HTML file, --markdown and --agreements."""
    flags = ("-o", "--output") if default else ("--report",)
    what = f" (default: {default})" if default else ""
    p.add_argument(
        *flags,
        default=default,
        metavar="FILE",
        help=f"write the HTML audit report to FILE (- for standard output){what}",
    )
    p.add_argument("--markdown", metavar="FILE", help="also write the audit report as Markdown")
    p.add_argument("--agreements", action="store_true", help="list agreements in the Markdown too")


def register(sub: Subparsers, add: Adder) -> None:
    """Add the report command to the ``harmjudge`` parser."""
    p = add("report", cmd_report, sub)
    add_judge_sources(p, repeatable=False)
    p.add_argument(
        "--split", choices=SPLITS, default="test", help="gold items to show (default: test)"
    )
    add_report_outputs(p, default="report.html")
