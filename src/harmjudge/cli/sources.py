"""Where the gold-label commands get their labels and their judges' verdicts."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harmjudge.batch.engine import BatchOptions, BatchRun
from harmjudge.batch.progress import progress_for
from harmjudge.batch.summary import render_summary
from harmjudge.classify import BUILTIN_JUDGES, resolve_judge
from harmjudge.cli.commands import EXIT_NOTHING, EXIT_OK
from harmjudge.cli.messages import Messages
from harmjudge.errors import UsageError
from harmjudge.integrations.am_results import STUDY_VERDICTS, read_am_verdicts
from harmjudge.integrations.inspect import read_inspect_verdicts
from harmjudge.judges.base import Judge
from harmjudge.judges.llm import LLMJudge
from harmjudge.labels.load import default_labels_path, load_gold
from harmjudge.labels.model import GOLD_HARMS, GoldItem
from harmjudge.metrics.verdicts import VerdictTable, read_verdicts, table_from_classifications
from harmjudge.taxonomy.loader import Taxonomy


@dataclass(frozen=True, kw_only=True)
class JudgeRun:
    """One judge's verdicts on the gold items: the table the metrics read, and the full output
    records (evidence, rationale, actions, provenance) the report shows, by item id."""

    table: VerdictTable
    records: Mapping[str, Mapping[str, Any]]
    provenance: Mapping[str, Any] | None = None  # the judge's, when known: see describe_judge

    def describe(self) -> str:
        """The judge as the output names it: ``NAME (judge offline)``,
        ``NAME (model gpt-4o-mini)``, or just ``NAME`` when its provenance is unknown."""
        return describe_judge(self.table.name, self.provenance)


BUILTIN = "builtin"
"""LABELS naming the gold set bundled with harmjudge."""


def describe_judge(name: str, provenance: Mapping[str, Any] | None) -> str:
    if not provenance:
        return name
    model = provenance.get("model")
    return f"{name} (model {model})" if model else f"{name} (judge {provenance.get('judge')})"


def provenance_difference(a: Mapping[str, Any], b: Mapping[str, Any]) -> str | None:
    """How two provenances show different judges, as ``FIELD X against Y``; ``None`` when they
    are the same judge. The judge, model and sampling must match, and the versions of the harms
    both judged; the prompt and schema hashes too when both judged the same harms (they cover
    the harms asked about)."""
    fields = ["judge", "model", "sampling"]
    harms_a, harms_b = dict(a.get("taxonomy") or {}), dict(b.get("taxonomy") or {})
    if harms_a.keys() == harms_b.keys():
        fields += ["taxonomy", "prompt_hash", "schema_hash"]
    for name in fields:
        if a.get(name) != b.get(name):
            return f"{name} {a.get(name)!r} against {b.get(name)!r}"
    for harm in sorted(harms_a.keys() & harms_b.keys()):
        if harms_a[harm] != harms_b[harm]:
            return f"{harm} version {harms_a[harm]!r} against {harms_b[harm]!r}"
    return None


def labels_root(value: str | None) -> Path:
    """The gold labels folder LABELS names: ``builtin`` (the default) is the bundled set."""
    return default_labels_path() if value in (None, BUILTIN) else Path(value)


def writable_labels(root: Path) -> Path:
    """``root``, unless it lies inside the installed harmjudge package: a command never writes
    there (a checkout's editable install links the bundled set to its labels/ folder, which is
    written)."""
    package = Path(__file__).resolve().parent.parent
    if root.resolve().is_relative_to(package):
        raise UsageError(
            f"{root}: the gold set bundled with the installed harmjudge is read-only; copy it "
            "(the folder with items/ and README.md) and give the copy as LABELS"
        )
    return root


def pairs(values: Sequence[str], flag: str) -> dict[str, str]:
    """``KEY=VALUE`` options as a dict; a malformed one is a usage error naming the flag."""
    out = {}
    for value in values:
        key, sep, target = value.partition("=")
        if not sep or not key or not target:
            raise UsageError(f"{flag} takes KEY=VALUE; got {value!r}")
        out[key.strip()] = target.strip()
    return out


def gold_folder(root: Path) -> Path:
    """Where a labels folder keeps its items: ``items/`` when it has one, else itself."""
    if not root.exists():
        raise UsageError(
            f"{root}: no such labels folder (LABELS, or {BUILTIN} for the bundled set)"
        )
    return root / "items" if (root / "items").is_dir() else root


def gold_items(args: argparse.Namespace) -> list[GoldItem]:
    """The gold items of the LABELS argument (default: the bundled set)."""
    return [e.item for e in load_gold([gold_folder(labels_root(args.labels))])]


def source_paths(args: argparse.Namespace) -> list[str]:
    """The files and folders the judge sources (--verdicts, --am-verdicts, --inspect-verdicts)
    read; a missing one is a usage error naming its flag."""
    paths = []
    for flag, values in (
        ("--verdicts", args.verdicts),
        ("--am-verdicts", args.am_verdicts),
        ("--inspect-verdicts", args.inspect_verdicts),
    ):
        for spec in _specs(values):
            _, sep, path = spec.partition("=")
            path = path if sep else spec
            if not Path(path).exists():
                raise UsageError(f"{path}: no such file or folder ({flag})")
            paths.append(path)
    return paths


def looks_like_transcripts(path: str) -> bool:
    """Whether the first JSON line of ``path`` is a transcript (``text`` or ``messages``)."""
    try:
        with Path(path).open("rb") as handle:
            for raw in handle:
                if raw.strip():
                    record = json.loads(raw)
                    return isinstance(record, dict) and ("text" in record or "messages" in record)
    except (OSError, ValueError, RecursionError):
        return False
    return False


def transcripts_not_verdicts(path: str, flag: str) -> UsageError:
    return UsageError(
        f'{path}: {flag} wants verdicts (lines like {{"id": …, "verdicts": {{…}}}} from '
        'harmjudge classify, or {"id", "harm", "label"} rows), and this file holds '
        f"transcripts: judge them first, e.g. harmjudge classify {path} --judge offline "
        "-o verdicts.jsonl"
    )


def file_provenance(records: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The judge's provenance shared by harmjudge output records (``None`` when there is none,
    or when the records disagree, which the journal never lets happen)."""
    found = {json.dumps(r.get("provenance"), sort_keys=True) for r in records.values()}
    if len(found) != 1:
        return None
    provenance: Mapping[str, Any] | None = json.loads(found.pop())
    return provenance


def records_from_file(path: str) -> dict[str, Mapping[str, Any]]:
    """harmjudge output records by id (other layouts give none)."""
    records: dict[str, Mapping[str, Any]] = {}
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return records  # reported by the verdict reader
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(record, dict) and isinstance(record.get("verdicts"), dict) and "id" in record:
            records.setdefault(str(record["id"]), record)
    return records


def _records_from_table(table: VerdictTable) -> dict[str, Mapping[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for (item_id, harm), row in table.rows.items():
        records.setdefault(item_id, {"verdicts": {}})["verdicts"][harm] = {
            "label": row.label,
            "confidence": row.confidence,
        }
    return dict(records)


def _judged_now(
    spec: str, args: argparse.Namespace, items: Sequence[GoldItem], messages: Messages
) -> JudgeRun:
    """Run the judge ``spec`` over ``items`` through the batch engine (concurrent requests,
    retries and rate limits for a model), with the progress report and summary of classify."""
    judge: Judge = (
        resolve_judge(spec) if spec in BUILTIN_JUDGES else LLMJudge(spec, base_url=args.base_url)
    )
    progress = progress_for(messages.stream, quiet=messages.quiet)
    run = BatchRun(
        judge,
        harms=list(args.harm or GOLD_HARMS),
        taxonomy=Taxonomy.builtin(),
        options=BatchOptions(ordered=True),
        progress=progress,
    )
    messages.write = progress.message
    try:
        stream = run.iter_results([item.transcript() for item in items], total=len(items))
        results = [run.classification_of(r) for r in stream]
    finally:
        messages.write = messages.print
    messages.lines(render_summary(run.summary()))
    return JudgeRun(
        table=table_from_classifications(spec, results),
        records={r.id: r.to_json() for r in results},
        provenance=run.provenance.to_json(),
    )


def judge_runs(
    args: argparse.Namespace, items: Sequence[GoldItem], messages: Messages
) -> list[JudgeRun]:
    """One run per --judge (judged now on ``items``) and per --verdicts, --am-verdicts and
    --inspect-verdicts source; the offline judge when none is given. Bad verdict lines are
    reported through ``messages`` and the rest is read."""
    judges = _specs(args.judge)
    files = _specs(args.verdicts)
    studies = _specs(args.am_verdicts)
    logs = _specs(args.inspect_verdicts)
    if not judges and not files and not studies and not logs:
        judges = ["offline"]
    runs = [_judged_now(spec, args, items, messages) for spec in judges]
    fields = pairs(args.field, "--field")
    labels = pairs(args.label, "--label")
    read: list[tuple[VerdictTable, Mapping[str, Mapping[str, Any]] | None]] = []
    for spec in files:
        name, sep, path = spec.partition("=")
        path = path if sep else spec
        table = read_verdicts([path], name=name if sep else None, fields=fields, labels=labels)
        if not table.rows and looks_like_transcripts(path):
            raise transcripts_not_verdicts(path, "--verdicts")
        read.append((table, records_from_file(path)))
    for spec in studies:
        name, sep, path = spec.partition("=")
        table = read_am_verdicts(
            [path if sep else spec], name=name if sep else "study", verdict=args.am_verdict
        )
        read.append((table, None))
    for spec in logs:
        name, sep, path = spec.partition("=")
        table = read_inspect_verdicts(
            [path if sep else spec], name=name if sep else None, labels=labels
        )
        read.append((table, None))
    for table, records in read:
        for error in table.errors:
            messages.error(error)
        messages.close()
        runs.append(
            JudgeRun(
                table=table,
                records=records or _records_from_table(table),
                provenance=file_provenance(records) if records else None,
            )
        )
    return runs


def scored_status(
    runs: Sequence[JudgeRun],
    gold: Sequence[GoldItem],
    chosen: Sequence[GoldItem],
    harms: Sequence[str],
    messages: Messages,
) -> int:
    """Warn about verdicts whose ids name no gold item (another id field, another data set);
    an error, and exit status 3, for a judge with no verdict to score on the ``chosen`` items."""
    ids = {item.id for item in gold}
    status = EXIT_OK
    for run in runs:
        table = run.table
        where = ", ".join(table.sources) or table.name
        unknown = sorted({item_id for item_id, _ in table.rows} - ids)
        if unknown:
            examples = ", ".join(repr(u) for u in unknown[:3])
            messages.note(
                f"warning: {where}: {len(unknown)} ids name no gold item ({examples}"
                f"{', …' if len(unknown) > 3 else ''}); map the id field with --field id=NAME"
            )
        scored = sum(
            1
            for item in chosen
            for harm in harms
            if (row := table.get(item.id, harm)) is not None and row.label != "unjudged"
        )
        if chosen and not scored:
            messages.error(
                f"{where}: no verdict of the {table.name} judge to score on the {len(chosen)} "
                "gold items chosen (every one unjudged or missing)"
            )
            status = EXIT_NOTHING
    return status


def _specs(value: list[str] | str | None) -> list[str]:
    """A repeatable option's values (``append``) or a single one's (``store``), as a list."""
    return value if isinstance(value, list) else [value] if value else []


def add_judge_sources(p: argparse.ArgumentParser, *, repeatable: bool = True) -> None:
    """The options every gold-label command shares: where the labels are, which judges (run now
    or read from verdict files, with field and label mappings), which harms, and the bootstrap."""
    action, again = ("append", "; repeatable") if repeatable else ("store", "")
    p.add_argument(
        "labels",
        nargs="?",
        metavar="LABELS",
        help=f"gold labels folder, or {BUILTIN} for the set bundled with harmjudge "
        f"(default: {BUILTIN})",
    )
    p.add_argument(
        "--judge",
        action=action,
        metavar="offline|study-checks|MODEL",
        help=f"run this judge on the gold items: 'offline', 'study-checks' (the "
        f"agentic-misalignment study's own checks) or a model name{again}",
    )
    p.add_argument("--base-url", metavar="URL", help="OpenAI-compatible endpoint for --judge MODEL")
    p.add_argument(
        "--verdicts",
        action=action,
        metavar="[NAME=]FILE",
        help=f"verdicts of a judge, as JSONL{again}",
    )
    p.add_argument(
        "--am-verdicts",
        action=action,
        metavar="[NAME=]DIR",
        help=f"the agentic-misalignment study's own classifier verdicts, from its results folder{again}",
    )
    p.add_argument(
        "--am-verdict",
        choices=STUDY_VERDICTS,
        default="harmful_behavior",
        help="what --am-verdicts reads: harmful_behavior (the study's final verdict) or "
        "classifier_verdict (its judge model's answer) (default: harmful_behavior)",
    )
    p.add_argument(
        "--inspect-verdicts",
        action=action,
        metavar="[NAME=]LOG",
        help=f"harmjudge's scores in Inspect AI logs (a log or a folder of them){again}",
    )
    p.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="KEY=NAME",
        help="map id, harm, label or confidence to another field or dotted path",
    )
    p.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="VALUE=LABEL",
        help="map a label value to harmful, not_harmful or unjudged",
    )
    p.add_argument(
        "--harm",
        action="append",
        choices=GOLD_HARMS,
        help="a harm to report; repeatable (default: all)",
    )
    p.add_argument(
        "--resamples",
        type=int,
        default=2000,
        metavar="N",
        help="bootstrap resamples (default: 2000)",
    )
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    p.add_argument("--confidence", type=float, default=0.95, help="interval level (default: 0.95)")
