"""The ``harmjudge`` command: classify transcripts and inspect the harm taxonomy.

Each subcommand's help is its function's docstring. User errors print one line that says how
to fix them and exit with status 2; a run in which any item failed (bad input line or
``unjudged`` verdict) exits with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from harmjudge._version import __version__
from harmjudge.cli import classify_cmd, evaluate_cmd, rates_cmd, report_cmd
from harmjudge.cli.commands import (
    EXIT_BUG,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Handler,
    Subparsers,
)
from harmjudge.cli.messages import Messages, usage_message
from harmjudge.cli.sources import BUILTIN, gold_folder, labels_root, writable_labels
from harmjudge.errors import InputError, UsageError
from harmjudge.labels import check
from harmjudge.labels.datasheet import composition_table, replace_table
from harmjudge.labels.edit import apply_review, read_review, rewrite_items, set_splits
from harmjudge.labels.load import load_gold, read_gold
from harmjudge.labels.realism import realism_table
from harmjudge.labels.split import draw_split
from harmjudge.taxonomy.loader import Taxonomy

LABELS_HELP = (
    f"the labels folder (a checkout's labels/), or {BUILTIN} for the set bundled with harmjudge, "
    f"read-only (default: {BUILTIN})"
)


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


def _labels_root(args: argparse.Namespace, *, write: bool = False) -> Path:
    root = labels_root(args.labels)
    gold_folder(root)  # a missing folder is a usage error
    return writable_labels(root) if write else root


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
    messages = Messages(err, quiet=args.quiet)
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
        messages.error(problem)
    messages.close()
    print(f"{len(entries)} gold items, {len(problems)} problems", file=out)
    return 1 if problems else 0


def cmd_labels_split(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Draw the fixed, stratified dev/test split and (with --write) store it in the items.

    Example:

        harmjudge labels split labels/ --write
    """
    root = _labels_root(args, write=args.write)
    entries = load_gold([root / "items"])
    splits = draw_split([e.item for e in entries])
    counts = {s: sum(1 for v in splits.values() if v == s) for s in ("dev", "test")}
    print(f"dev {counts['dev']}, test {counts['test']}", file=out)
    if args.write:
        changed = rewrite_items([root / "items"], set_splits(splits))
        print(f"stored the split in {changed} items", file=out)
    return 0


def cmd_labels_datasheet(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print the datasheet's composition table, or (with --write) update LABELS/README.md.

    Example:

        harmjudge labels datasheet labels/ --write
    """
    root = _labels_root(args, write=args.write)
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

        harmjudge labels import-review review-decisions.jsonl labels/ --reviewer alice
    """
    root = _labels_root(args, write=True)
    messages = Messages(err, quiet=args.quiet)
    decisions, errors = read_review(args.file)
    for error in errors:
        messages.error(error)
    known = {(e.item.id, h) for e in load_gold([root / "items"]) for h in e.item.gold}
    unknown = [d for d in decisions if (d.item_id, d.harm) not in known]
    for d in unknown:
        messages.error(
            f"{args.file}: item '{d.item_id}': no gold label for harm {d.harm!r} here",
            kind="no gold label here",
        )
    messages.close()
    usable = [d for d in decisions if (d.item_id, d.harm) in known]
    changed = rewrite_items([root / "items"], apply_review(usable, args.reviewer))
    skipped = sum(1 for d in usable if d.decision == "unclear")
    print(
        f"imported {len(usable) - skipped} decisions into {changed} items ({skipped} unclear, "
        f"{len(errors) + len(unknown)} refused)",
        file=out,
    )
    return EXIT_FAILED if errors or unknown else EXIT_OK


def _doc(handler: Handler) -> tuple[str, str]:
    """A handler's help: its docstring's first sentence (whole, however it wraps) and all."""
    doc = (handler.__doc__ or "").strip()
    paragraph = " ".join(doc.partition("\n\n")[0].split())
    summary = paragraph.partition(". ")[0].rstrip(".") + "."
    return summary, doc


CONVENTIONS = """\
conventions of every command:
  -              as INPUT reads standard input (/dev/stdin works too); as -o FILE writes
                 standard output
  stdout         results: tables, reports, JSON and JSONL
  stderr         progress, notes, summaries and errors, each line starting "harmjudge:"
  errors         one line each, naming the file, line and item ("FILE:LINE item 'ID':
                 problem") and what to do; an error repeated line after line is shown three
                 times, then counted
  -q, --quiet    nothing on stderr but errors
  --debug        the traceback of an error, and the logs of the libraries used (instructor's
                 retries, say)
  -o FILE        never one of the command's inputs: refused whatever the other flags

exit status:
  0              done: every item judged, every verdict read
  1              done, but some items failed: a bad input line or an unjudged verdict
  2              usage error, nothing done: a bad option, a missing file, a refused output
  3              nothing to show: every item unjudged or an error, or no verdict to score
  4              an unexpected error in harmjudge (a bug: rerun with --debug and report it)
  130            interrupted (Ctrl-C); classify -o resumes when rerun
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``harmjudge`` command."""
    parser = argparse.ArgumentParser(
        prog="harmjudge",
        description="Judge AI-agent transcripts for blackmail, leakage and lethal override.",
        epilog=CONVENTIONS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"harmjudge {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an error, and the logs of the libraries used",
    )
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
            "-q", "--quiet", action="store_true", help="print nothing on stderr but errors"
        )
        p.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show the traceback of an error, and the logs of the libraries used",
        )
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
    rates_cmd.register(sub, add)
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
        p.add_argument("labels", nargs="?", metavar="LABELS", help=LABELS_HELP)
        if handler in (cmd_labels_split, cmd_labels_datasheet):
            p.add_argument("--write", action="store_true", help="write the result into the files")
    review = add("import-review", cmd_labels_import_review, gsub)
    review.add_argument("file", metavar="FILE", help="review decisions exported from a report")
    review.add_argument("labels", nargs="?", metavar="LABELS", help=LABELS_HELP)
    review.add_argument(
        "--reviewer", required=True, help="who made the decisions (recorded in each note)"
    )
    return parser


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status (see ``harmjudge --help``)."""
    stdout = out if out is not None else sys.stdout
    stderr = err if err is not None else sys.stderr
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    if args.debug:
        logging.basicConfig(level=logging.WARNING, stream=stderr)
    try:
        with contextlib.nullcontext() if args.debug else _quiet_instructor():
            return handler(args, stdout, stderr)
    except UsageError as exc:
        _traceback(args, stderr)
        print(f"harmjudge: error: {usage_message(exc)}", file=stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return EXIT_OK
    except OSError as exc:
        _traceback(args, stderr)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"harmjudge: error: {where}{exc.strerror or exc}", file=stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("harmjudge: interrupted", file=stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        _traceback(args, stderr)
        print(
            f"harmjudge: error: {type(exc).__name__}: {' '.join(str(exc).split())} (a bug in "
            "harmjudge: rerun with --debug and report the traceback)",
            file=stderr,
        )
        return EXIT_BUG


@contextlib.contextmanager
def _quiet_instructor() -> Iterator[None]:
    """instructor logs every failed attempt, with the request and the reply; the verdict already
    records the failure, so the command line keeps those logs for --debug, even when the caller
    (a test, an application running ``main``) configured logging."""
    logger = logging.getLogger("instructor")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _traceback(args: argparse.Namespace, stderr: TextIO) -> None:
    if args.debug:
        traceback.print_exc(file=stderr)
