"""The ``harmjudge classify`` subcommand: a batch run over JSONL files.

:func:`register` adds it to the ``harmjudge`` parser; :func:`cmd_classify` runs it (its
docstring is the help text). :func:`main` runs the subcommand on its own, as
``harmjudge classify`` would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TextIO

from harmjudge.batch.budget import Budget, Price, PriceTable
from harmjudge.batch.cache import VerdictCache, default_cache_path
from harmjudge.batch.engine import BatchInput, BatchOptions, BatchRun
from harmjudge.batch.estimate import DEFAULT_MAX_INPUT_TOKENS, LengthPolicy
from harmjudge.batch.journal import Journal
from harmjudge.batch.progress import Progress, progress_for
from harmjudge.batch.redact import Redactor
from harmjudge.batch.retry import RetryPolicy
from harmjudge.batch.summary import BatchSummary, render_summary
from harmjudge.classify import BUILTIN_JUDGES, resolve_judge
from harmjudge.cli.commands import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOTHING,
    EXIT_OK,
    Adder,
    Subparsers,
)
from harmjudge.cli.files import STDOUT, fixed_inputs, refuse_inputs_as_outputs
from harmjudge.cli.messages import Messages
from harmjudge.errors import InputError, UsageError
from harmjudge.integrations.readers import SOURCE_KINDS, read_source
from harmjudge.judges.base import Judge
from harmjudge.judges.llm import LLMJudge, judge_from_env
from harmjudge.judges.offline import OfflineJudge
from harmjudge.judges.verdict import Classification
from harmjudge.report.render_text import verdict_table
from harmjudge.taxonomy.loader import Taxonomy
from harmjudge.transcript.io import STDIN, input_files


def _bundled_examples() -> Path:
    return Path(str(resources.files("harmjudge").joinpath("examples").joinpath("examples.jsonl")))


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


def _amount(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``classify`` options (all but ``--taxonomy``) to ``parser``."""
    parser.add_argument(
        "input",
        nargs="*",
        metavar="INPUT",
        help="JSONL file or folder, - for standard input (default: bundled examples)",
    )
    parser.add_argument(
        "--from",
        dest="source",
        choices=SOURCE_KINDS,
        default="jsonl",
        help="what INPUT is: jsonl (the interchange format), am-results (the agentic-misalignment "
        "study's results folders) or inspect (Inspect AI logs; needs harmjudge[inspect]) "
        "(default: jsonl)",
    )
    parser.add_argument(
        "--harm", action="append", metavar="HARM", help="a harm to judge; repeatable (default: all)"
    )
    parser.add_argument(
        "--judge",
        metavar="offline|study-checks|MODEL",
        help="'offline', 'study-checks' (the agentic-misalignment study's own checks) or a model "
        "name (default: offline, or $HARMJUDGE_MODEL)",
    )
    parser.add_argument(
        "--base-url", metavar="URL", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL)"
    )
    parser.add_argument(
        "--per-harm",
        action="store_true",
        help="one model call per harm instead of one per transcript",
    )
    parser.add_argument(
        "--gating",
        action="store_true",
        help="skip the model for harms whose gate finds no qualifying action",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write verdicts as JSONL to FILE, as they arrive; rerun to resume (- for standard "
        "output, in input order, not resumable)",
    )
    parser.add_argument(
        "--jsonl", action="store_true", help="print JSONL verdicts instead of the table"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="start FILE afresh instead of resuming it"
    )
    parser.add_argument(
        "--retry-unjudged",
        action="store_true",
        help="when resuming, also resend the items whose verdicts are unjudged",
    )
    run = parser.add_argument_group("batch")
    run.add_argument(
        "--concurrency",
        type=_positive_int,
        default=16,
        metavar="N",
        help="transcripts judged at once (default: 16)",
    )
    run.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="timeout of each request (default: 60)",
    )
    run.add_argument(
        "--max-retries",
        type=_count,
        default=6,
        metavar="N",
        help="retries of a request after 429, 5xx, a timeout or a bad body (default: 6)",
    )
    cache = run.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        metavar="FILE",
        help="the verdict cache (default: verdicts.sqlite3 in the user cache directory, "
        "or in $HARMJUDGE_CACHE_DIR)",
    )
    cache.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print the requests and tokens the run would need, and send nothing",
    )
    run.add_argument(
        "--max-tokens",
        type=_count,
        metavar="N",
        help="stop sending once N tokens are spent; the rest is unjudged (budget)",
    )
    run.add_argument(
        "--max-cost",
        type=_amount,
        metavar="USD",
        help="stop sending once USD dollars are spent (needs --prices)",
    )
    run.add_argument(
        "--prices",
        metavar="FILE",
        help='price table: {"MODEL": {"prompt": USD, "completion": USD}} per million tokens',
    )
    run.add_argument(
        "--max-input-tokens",
        type=_positive_int,
        default=DEFAULT_MAX_INPUT_TOKENS,
        metavar="N",
        help="longer transcripts are not sent: unjudged (too_long) "
        f"(default: {DEFAULT_MAX_INPUT_TOKENS})",
    )


def _make_judge(args: argparse.Namespace) -> Judge:
    """--judge, else $HARMJUDGE_MODEL, else the offline judge (the summary names it)."""
    spec: str | None = args.judge or judge_from_env()
    if spec is None and args.base_url:
        raise UsageError("--base-url needs --judge MODEL")
    if spec is None:
        return OfflineJudge()  # the summary names it; no library notice on the command line
    if spec in BUILTIN_JUDGES:
        return resolve_judge(spec)
    assert spec is not None
    return LLMJudge(
        spec,
        base_url=args.base_url,
        per_harm=args.per_harm,
        gating=args.gating,
        timeout=args.timeout,
    )


def _price(args: argparse.Namespace, judge: Judge) -> Price | None:
    if not args.prices:
        if args.max_cost is not None:
            raise UsageError("--max-cost needs --prices FILE with the model's price")
        return None
    model = getattr(judge, "model", None)
    table = PriceTable.load(args.prices)
    if model is None or model not in table:
        if args.max_cost is not None:
            raise UsageError(f"{args.prices} has no price for the model {model!r}; add it")
        return None
    return table[model]


def _count_items(source: str, inputs: Sequence[str | Path]) -> int | None:
    """The number of non-blank lines in the input files (for the progress bar's ETA); ``None``
    for inputs other than JSONL."""
    if source != "jsonl":
        return None
    total = 0
    for path in input_files(inputs):
        if str(path) == STDIN or (path.exists() and not path.is_file()):
            return None  # standard input, a pipe or /dev/stdin: read once, by the run
        try:
            with path.open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
        except OSError:
            total += 1  # reported as one input error
    return total


def _reported(items: Iterable[BatchInput], messages: Messages) -> Iterator[BatchInput]:
    for item in items:
        if isinstance(item, InputError):
            messages.error(item)
        yield item


def exit_status(summary: BatchSummary) -> int:
    """0 when every item was judged, 3 when none was (every one unjudged or an error), else 1."""
    if not summary.failed:
        return EXIT_OK
    return EXIT_NOTHING if summary.failed == summary.items else EXIT_FAILED


async def _drive(
    run: BatchRun,
    items: Iterable[BatchInput],
    *,
    total: int | None,
    progress: Progress,
    messages: Messages,
    jsonl: TextIO | None,
    table: list[Classification] | None,
) -> None:
    async with contextlib.aclosing(run.results(items, total=total)) as stream:
        async for result in stream:
            if result.error is not None:
                messages.error(result.error.message(), kind=result.error.detail)
            if jsonl is not None:
                text = json.dumps(result.to_json(), ensure_ascii=False)
                print(run.redactor.scrub(text), file=jsonl, flush=True)
            elif table is not None and result.error is None:
                table.append(run.classification_of(result))


def cmd_classify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Classify transcripts for harms and print a verdict per transcript and harm.

    INPUT is one or more JSONL files (or folders of them) in the interchange format; without
    INPUT, the bundled example transcripts are classified. With --from am-results, INPUT is the
    agentic-misalignment study's results folders; with --from inspect, Inspect AI logs (.eval or
    .json, or folders of them; needs harmjudge[inspect]). The judge defaults to the offline
    reference judge unless HARMJUDGE_MODEL is set. Model calls run concurrently, are retried
    on rate limits and server errors, and are cached. With -o the output is a journal written
    as results arrive: rerun the same command after an interruption and only the unfinished
    transcripts are sent. Every input line gives one output record; a bad line gives an error
    record and a one-line report, and the exit status is 1 when anything failed.

    Example:

        harmjudge classify labels/ --harm blackmail --judge offline -o verdicts.jsonl
        harmjudge classify --from am-results results/exp-1 --harm blackmail -o verdicts.jsonl
    """
    taxonomy = Taxonomy.load(*args.taxonomy) if args.taxonomy else Taxonomy.builtin()
    harms = [h.id for h in taxonomy.select(args.harm)]
    messages = Messages(err, quiet=args.quiet)
    judge = _make_judge(args)
    if args.source != "jsonl" and not args.input:
        raise UsageError(f"--from {args.source} needs INPUT: the results folders or logs to read")
    inputs: list[str | Path] = list(args.input) or [_bundled_examples()]
    output = None if args.output == STDOUT else args.output
    if args.source == "jsonl":
        inputs = list(fixed_inputs(inputs, output))
    else:
        refuse_inputs_as_outputs([("-o", output)], inputs)
    price = _price(args, judge)
    redactor = Redactor()
    options = BatchOptions(
        concurrency=args.concurrency,
        retry=RetryPolicy(max_retries=args.max_retries),
        length=LengthPolicy(max_input_tokens=args.max_input_tokens),
        budget=Budget(max_tokens=args.max_tokens, max_cost=args.max_cost),
        price=price,
        ordered=output is None,
        retry_unjudged=args.retry_unjudged,
    )
    cache = None
    cache_path = Path(args.cache) if args.cache else default_cache_path()
    dry_without_cache = args.dry_run and not cache_path.exists()  # a dry run writes nothing
    if isinstance(judge, LLMJudge) and not args.no_cache and not dry_without_cache:
        cache = VerdictCache(cache_path)
    journal = Journal(output, overwrite=args.overwrite, redactor=redactor) if output else None
    progress = progress_for(err, quiet=args.quiet or args.dry_run)
    messages.write = progress.message
    jsonl = args.jsonl or args.output == STDOUT
    table: list[Classification] | None = None if output or jsonl else []
    try:
        run = BatchRun(
            judge,
            harms=harms,
            taxonomy=taxonomy,
            options=options,
            cache=cache,
            journal=journal,
            progress=progress,
            redactor=redactor,
        )
        if args.dry_run:
            plan = run.plan(_reported(read_source(args.source, inputs), messages))
            messages.close()
            for line in plan.render():
                print(line, file=out)
            return EXIT_FAILED if plan.errors else EXIT_OK
        asyncio.run(
            _drive(
                run,
                read_source(args.source, inputs),
                total=_count_items(args.source, inputs),
                progress=progress,
                messages=messages,
                jsonl=out if jsonl and not output else None,
                table=table,
            )
        )
    except KeyboardInterrupt:
        where = f"; rerun the same command to resume {output}" if output else ""
        print(f"harmjudge: interrupted{where}", file=err)
        return EXIT_INTERRUPTED
    finally:
        messages.write = messages.print
        messages.close()
        if cache is not None:
            cache.close()
    if table is not None:
        print(verdict_table(table, harms), file=out)
    summary = run.summary()
    messages.lines([redactor.scrub(line) for line in render_summary(summary)])
    if output and summary.unjudged.get("budget"):
        messages.note("raise the budget and rerun to send the rest")
    elif output and summary.unjudged_items and not args.retry_unjudged:
        messages.note("rerun with --retry-unjudged to send the unjudged items again")
    return exit_status(summary)


def register(sub: Subparsers, add: Adder) -> None:
    """Add the classify command to the ``harmjudge`` parser (``add`` gives it ``--taxonomy``)."""
    add_arguments(add("classify", cmd_classify, sub))
