"""The ``harmjudge`` command: classify transcripts and inspect the harm taxonomy.

Each subcommand's help is its function's docstring. User errors print one line that says how
to fix them and exit with status 2; a run in which any item failed (bad input line or
``unjudged`` verdict) exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from harmjudge._version import __version__
from harmjudge.cli import classify_cmd, evaluate_cmd, report_cmd
from harmjudge.cli.commands import Handler, Subparsers
from harmjudge.errors import InputError, UsageError
from harmjudge.labels import check
from harmjudge.labels.datasheet import composition_table, replace_table
from harmjudge.labels.edit import apply_review, read_review, rewrite_items, set_splits
from harmjudge.labels.load import default_labels_path, load_gold, read_gold
from harmjudge.labels.realism import realism_table
from harmjudge.labels.split import draw_split
from harmjudge.taxonomy.loader import Taxonomy


def _load_taxonomy(args: argparse.Namespace) -> Taxonomy:
    return Taxonomy.load(*args.taxonomy) if args.taxonomy else Taxonomy.builtin()


def cmd_taxonomy_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """List the harms: id, version, gate and name.

    Example:

        harmjudge taxonomy list
    """
    for harm in _load_taxonomy(args).values():
        print(f"{harm.id}\t{harm.version}\t{harm.gate.kind}\t{harm.name}", file=out)
    return 0


def cmd_taxonomy_show(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print one harm's full definition as JSON.

    Example:

        harmjudge taxonomy show leakage
    """
    taxonomy = _load_taxonomy(args)
    (harm,) = taxonomy.select([args.harm])
    print(json.dumps(harm.model_dump(mode="json"), indent=2, ensure_ascii=False), file=out)
    return 0


def _labels_root(args: argparse.Namespace) -> Path:
    return Path(args.labels) if args.labels else default_labels_path()


def cmd_labels_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Check the gold set: schema, unique ids, every harm labelled, evidence verbatim, passes A,
    B and C on every item with gold labels and kinds that follow them or a recorded
    adjudication, traps present at least five times and patterns twelve, the stored split equal
    to the drawn one (per version), 45 harmful items per harm in the test split, and the
    datasheet's composition table current.

    Example:

        harmjudge labels validate labels/
    """
    root = _labels_root(args)
    entries = []
    problems: list[str] = []
    for entry in read_gold([root / "items" if (root / "items").is_dir() else root]):
        if isinstance(entry, InputError):
            problems.append(str(entry))
        else:
            entries.append(entry)
    problems += check.check_evidence(entries)
    problems += check.check_annotations(entries)
    problems += check.check_tags(entries)
    problems += check.check_split(entries)
    problems += check.check_test_positives(entries)
    readme = root / "README.md"
    if readme.exists():
        problems += check.check_datasheet(entries, readme)
    for problem in problems:
        print(f"harmjudge: {problem}", file=err)
    print(f"{len(entries)} gold items, {len(problems)} problems", file=out)
    return 1 if problems else 0


def cmd_labels_split(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Draw the fixed, stratified dev/test split and (with --write) store it in the items.

    Example:

        harmjudge labels split --write
    """
    root = _labels_root(args)
    entries = load_gold([root / "items"])
    splits = draw_split([e.item for e in entries])
    counts = {s: sum(1 for v in splits.values() if v == s) for s in ("dev", "test")}
    print(f"dev {counts['dev']}, test {counts['test']}", file=out)
    if args.write:
        changed = rewrite_items([root / "items"], set_splits(splits))
        print(f"stored the split in {changed} items", file=out)
    return 0


def cmd_labels_datasheet(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print the datasheet's composition table, or (with --write) update labels/README.md.

    Example:

        harmjudge labels datasheet --write
    """
    root = _labels_root(args)
    table = composition_table([e.item for e in load_gold([root / "items"])])
    if args.write:
        readme = root / "README.md"
        readme.write_text(
            replace_table(readme.read_text(encoding="utf-8"), table), encoding="utf-8"
        )
        print(f"updated {readme}", file=out)
    else:
        print(table, file=out)
    return 0


def cmd_labels_realism(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print the gold set's length and texture by version (agent output, visible prose, reasoning
    in a separate field, emails per inbox) beside issue 12's figures for real model outputs.

    Example:

        harmjudge labels realism labels/
    """
    root = _labels_root(args)
    print(realism_table([e.item for e in load_gold([root / "items"])]), file=out)
    return 0


def cmd_labels_import_review(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Import review decisions exported from an audit report as adjudications.

    "agree with gold" confirms the gold label; "agree with judge" makes the judge's label (with
    its rationale and evidence) the gold label; "unclear" changes nothing. Run `harmjudge labels
    validate` afterwards.

    Example:

        harmjudge labels import-review review-decisions.jsonl --reviewer alice
    """
    root = _labels_root(args)
    decisions, errors = read_review(args.file)
    for error in errors:
        print(f"harmjudge: {error}", file=err)
    known = {(e.item.id, h) for e in load_gold([root / "items"]) for h in e.item.gold}
    unknown = [d for d in decisions if (d.item_id, d.harm) not in known]
    for d in unknown:
        print(
            f"harmjudge: {args.file}: item '{d.item_id}': no gold label for harm {d.harm!r} here",
            file=err,
        )
    usable = [d for d in decisions if (d.item_id, d.harm) in known]
    changed = rewrite_items([root / "items"], apply_review(usable, args.reviewer))
    skipped = sum(1 for d in usable if d.decision == "unclear")
    print(
        f"imported {len(usable) - skipped} decisions into {changed} items ({skipped} unclear, "
        f"{len(errors) + len(unknown)} refused)",
        file=out,
    )
    return 1 if errors or unknown else 0


def _doc(handler: Handler) -> tuple[str, str]:
    doc = (handler.__doc__ or "").strip()
    summary = doc.partition("\n")[0]
    return summary, doc


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``harmjudge`` command."""
    parser = argparse.ArgumentParser(
        prog="harmjudge",
        description="Judge AI-agent transcripts for blackmail, leakage and lethal override.",
    )
    parser.add_argument("--version", action="version", version=f"harmjudge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, parent: Subparsers) -> argparse.ArgumentParser:
        summary, doc = _doc(handler)
        p = parent.add_parser(
            name,
            help=summary,
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(handler=handler)
        p.add_argument(
            "--taxonomy",
            action="append",
            default=[],
            metavar="FILE",
            help="a harm definition file (JSON) to load on top of the built-in harms; repeatable",
        )
        return p

    classify_cmd.register(sub, add)

    t = sub.add_parser("taxonomy", help="list or show the harm definitions")
    tsub = t.add_subparsers(dest="taxonomy_command", required=True, metavar="ACTION")
    add("list", cmd_taxonomy_list, tsub)
    show = add("show", cmd_taxonomy_show, tsub)
    show.add_argument("harm", metavar="HARM")

    evaluate_cmd.register(sub, add)
    report_cmd.register(sub, add)

    g = sub.add_parser("labels", help="validate and maintain the gold label set")
    gsub = g.add_subparsers(dest="labels_command", required=True, metavar="ACTION")
    for name, handler in (
        ("validate", cmd_labels_validate),
        ("split", cmd_labels_split),
        ("datasheet", cmd_labels_datasheet),
        ("realism", cmd_labels_realism),
    ):
        p = add(name, handler, gsub)
        p.add_argument(
            "labels", nargs="?", metavar="LABELS", help="the labels folder (default: labels/)"
        )
        if handler in (cmd_labels_split, cmd_labels_datasheet):
            p.add_argument("--write", action="store_true", help="write the result into the files")
    review = add("import-review", cmd_labels_import_review, gsub)
    review.add_argument("file", metavar="FILE", help="review decisions exported from a report")
    review.add_argument(
        "labels", nargs="?", metavar="LABELS", help="the labels folder (default: labels/)"
    )
    review.add_argument(
        "--reviewer", required=True, help="who made the decisions (recorded in each note)"
    )
    return parser


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    stdout = out if out is not None else sys.stdout
    stderr = err if err is not None else sys.stderr
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args, stdout, stderr)
    except UsageError as exc:
        print(f"harmjudge: error: {exc}", file=stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
