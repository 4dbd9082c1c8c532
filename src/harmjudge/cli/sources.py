"""Where the gold-label commands get their labels and their judges' verdicts."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from harmjudge.classify import BUILTIN_JUDGES, classify_many, resolve_judge
from harmjudge.errors import UsageError
from harmjudge.integrations.am_results import STUDY_VERDICTS, read_am_verdicts
from harmjudge.integrations.inspect import read_inspect_verdicts
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


def pairs(values: Sequence[str], flag: str) -> dict[str, str]:
    """``KEY=VALUE`` options as a dict; a malformed one is a usage error naming the flag."""
    out = {}
    for value in values:
        key, sep, target = value.partition("=")
        if not sep or not key or not target:
            raise UsageError(f"{flag} takes KEY=VALUE; got {value!r}")
        out[key.strip()] = target.strip()
    return out


def gold_items(args: argparse.Namespace) -> list[GoldItem]:
    """The gold items of the LABELS argument (default: the bundled set)."""
    root = Path(args.labels) if args.labels else default_labels_path()
    folder = root / "items" if (root / "items").is_dir() else root
    return [e.item for e in load_gold([folder])]


def _records_from_file(path: str) -> dict[str, Mapping[str, Any]]:
    """harmjudge output records by id (other layouts give none)."""
    records: dict[str, Mapping[str, Any]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
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


def judge_runs(args: argparse.Namespace, items: Sequence[GoldItem], err: TextIO) -> list[JudgeRun]:
    """One run per --judge (judged now on ``items``) and per --verdicts, --am-verdicts and
    --inspect-verdicts source; the offline judge when none is given. Bad verdict lines are reported on ``err`` and the rest is read."""
    judges = _specs(args.judge)
    files = _specs(args.verdicts)
    studies = _specs(args.am_verdicts)
    logs = _specs(args.inspect_verdicts)
    if not judges and not files and not studies and not logs:
        judges = ["offline"]
    taxonomy = Taxonomy.builtin()
    harms = list(args.harm or GOLD_HARMS)
    runs: list[JudgeRun] = []
    for spec in judges:
        judge = (
            resolve_judge(spec)
            if spec in BUILTIN_JUDGES
            else LLMJudge(spec, base_url=args.base_url)
        )
        # Through the batch engine: concurrent requests, retries and rate limits for a model.
        results = list(
            classify_many([item.transcript() for item in items], harms, judge, taxonomy=taxonomy)
        )
        runs.append(
            JudgeRun(
                table=table_from_classifications(spec, results),
                records={r.id: r.to_json() for r in results},
            )
        )
    fields = pairs(args.field, "--field")
    labels = pairs(args.label, "--label")
    for spec in files:
        name, sep, path = spec.partition("=")
        path = path if sep else spec
        table = read_verdicts([path], name=name if sep else None, fields=fields, labels=labels)
        for error in table.errors:
            print(f"harmjudge: {error}", file=err)
        runs.append(
            JudgeRun(table=table, records=_records_from_file(path) or _records_from_table(table))
        )
    for spec in studies:
        name, sep, path = spec.partition("=")
        table = read_am_verdicts(
            [path if sep else spec], name=name if sep else "study", verdict=args.am_verdict
        )
        for error in table.errors:
            print(f"harmjudge: {error}", file=err)
        runs.append(JudgeRun(table=table, records=_records_from_table(table)))
    for spec in logs:
        name, sep, path = spec.partition("=")
        table = read_inspect_verdicts(
            [path if sep else spec], name=name if sep else None, labels=labels
        )
        for error in table.errors:
            print(f"harmjudge: {error}", file=err)
        runs.append(JudgeRun(table=table, records=_records_from_table(table)))
    return runs


def _specs(value: list[str] | str | None) -> list[str]:
    """A repeatable option's values (``append``) or a single one's (``store``), as a list."""
    return value if isinstance(value, list) else [value] if value else []


def add_judge_sources(p: argparse.ArgumentParser, *, repeatable: bool = True) -> None:
    """The options every gold-label command shares: where the labels are, which judges (run now
    or read from verdict files, with field and label mappings), which harms, and the bootstrap."""
    action, again = ("append", "; repeatable") if repeatable else ("store", "")
    p.add_argument(
        "labels", nargs="?", metavar="LABELS", help="gold labels folder (default: the bundled set)"
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
