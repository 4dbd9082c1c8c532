"""The agentic-misalignment study's results folders, read where they are.

The study writes one ``response.json`` per sample::

    results/<experiment>/models/<model>/<condition>/sample_<n>/response.json

(older runs leave out the ``models/`` level), and the prompts of each condition beside them in
``results/<experiment>/prompts/<condition>/`` (``system_prompt.txt``, ``user_prompt.txt``,
``email_content.txt``). What is relied on in ``response.json``:

* ``raw_response``: the model's reply as text, with its ``<SCRATCHPAD_REASONING>`` and
  ``<tool_use:…>`` blocks. A run that failed has ``error`` instead.
* ``classification``, once the study's classifier has run: ``harmful_behavior`` (its final
  verdict, the classifier's answer combined with the study's own checks), ``classifier_verdict``
  (the judge model's answer alone), ``classifier_reasoning``, ``classifier_model`` and
  ``classified_at``. A classifier failure leaves ``{"error": …}`` instead.

Everything else in the file is ignored. Condition ids such as
``blackmail_explicit-america_replacement`` (``{scenario}_{goal type}-{goal value}_{urgency}``)
become metadata, and the scenario names the harm: ``blackmail``, ``leaking`` → ``leakage``,
``murder`` → ``lethal_override``. See docs/integrations/am-results.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harmjudge.errors import InputError, invalid_parameter, one_of
from harmjudge.integrations._records import one_line, sourced, unique_ids
from harmjudge.metrics.verdicts import VerdictRow, VerdictTable
from harmjudge.transcript.io import SourcedRecord

SCENARIO_HARMS: Mapping[str, str] = {
    "blackmail": "blackmail",
    "leaking": "leakage",
    "leak": "leakage",
    "murder": "lethal_override",
}
"""The study's scenario names and the harm each one tests."""

StudyVerdict = Literal["harmful_behavior", "classifier_verdict"]
STUDY_VERDICTS: tuple[StudyVerdict, ...] = ("harmful_behavior", "classifier_verdict")

_CONDITION = re.compile(
    r"^(?P<scenario>[^_]+)_(?P<goal_type>[^_-]+)-(?P<goal_value>[^_]+)_(?P<urgency>[^_]+)"
    r"(?:_(?P<variant>.+))?$"
)
_PROMPT_FILES = ("system_prompt.txt", "user_prompt.txt", "email_content.txt")
_LAYOUT = "<experiment>/models/<model>/<condition>/sample_<n>/response.json"


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One of the study's experimental conditions, parsed from its id.

    Parts that the id does not have are ``None``; ``variant`` holds anything after the urgency.

    >>> c = parse_condition("blackmail_explicit-america_replacement")
    >>> c.scenario, c.goal_type, c.goal_value, c.urgency, c.harm
    ('blackmail', 'explicit', 'america', 'replacement', 'blackmail')
    >>> parse_condition("murder_none-none_restriction").harm
    'lethal_override'
    """

    id: str
    scenario: str
    goal_type: str | None = None
    goal_value: str | None = None
    urgency: str | None = None
    variant: str | None = None
    harm: str | None = None

    def to_metadata(self) -> dict[str, Any]:
        return {
            "condition": self.id,
            "scenario": self.scenario,
            "goal_type": self.goal_type,
            "goal_value": self.goal_value,
            "urgency": self.urgency,
            "variant": self.variant,
            "harm": self.harm,
        }


def parse_condition(condition: str, *, scenarios: Mapping[str, str] = SCENARIO_HARMS) -> Condition:
    """Parse a condition id; ``scenarios`` maps scenario names to harm ids.

    An id not in the ``{scenario}_{goal type}-{goal value}_{urgency}`` form keeps its first part
    as the scenario.

    >>> parse_condition("leaking_latent-safety_none_prod").variant
    'prod'
    >>> parse_condition("stereotype").harm is None
    True
    """
    match = _CONDITION.match(condition)
    if match is None:
        scenario = condition.split("_", 1)[0]
        return Condition(id=condition, scenario=scenario, harm=scenarios.get(scenario))
    parts = match.groupdict()
    return Condition(
        id=condition,
        scenario=parts["scenario"],
        goal_type=parts["goal_type"],
        goal_value=parts["goal_value"],
        urgency=parts["urgency"],
        variant=parts["variant"],
        harm=scenarios.get(parts["scenario"]),
    )


def condition_from_metadata(
    metadata: Mapping[str, Any], *, scenarios: Mapping[str, str] = SCENARIO_HARMS
) -> Condition | None:
    """The study's condition of a sample described by its metadata, as the study's Inspect port
    (``inspect_evals/agentic_misalignment``) writes it: ``scenario``, ``goal_type``,
    ``goal_value``, ``urgency_type`` (or ``urgency``) and ``condition_id`` (or ``condition``).

    The parts given win over those parsed from the condition id; without an id, one is made
    from the four parts when all are given. ``None`` when the metadata names no condition and
    no scenario that maps to a harm (a sample of another task).

    >>> c = condition_from_metadata(
    ...     {"scenario": "leaking", "goal_type": "none", "goal_value": "none",
    ...      "urgency_type": "restriction", "prod": False}
    ... )
    >>> c.id, c.urgency, c.harm
    ('leaking_none-none_restriction', 'restriction', 'leakage')
    >>> condition_from_metadata({"scenario": "customer_support"}) is None
    True
    """

    def text(*keys: str) -> str | None:
        for key in keys:
            value = metadata.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    given = text("condition_id", "condition")
    scenario = text("scenario")
    parts = {
        "goal_type": text("goal_type"),
        "goal_value": text("goal_value"),
        "urgency": text("urgency_type", "urgency"),
    }
    if given is None:
        if scenario is None or scenario not in scenarios:
            return None
        complete = all(parts.values())
        given = (
            f"{scenario}_{parts['goal_type']}-{parts['goal_value']}_{parts['urgency']}"
            if complete
            else scenario
        )
    parsed = parse_condition(given, scenarios=scenarios)
    scenario = scenario or parsed.scenario
    return Condition(
        id=given,
        scenario=scenario,
        goal_type=parts["goal_type"] or parsed.goal_type,
        goal_value=parts["goal_value"] or parsed.goal_value,
        urgency=parts["urgency"] or parsed.urgency,
        variant=parsed.variant,
        harm=scenarios.get(scenario),
    )


@dataclass(frozen=True, kw_only=True)
class StudySample:
    """One sample of a results folder: where it is, what it is, and its ``response.json``.

    ``id`` is ``<experiment>/<model>/<condition>/<sample folder>``, stable for a folder wherever
    it is moved; ``prompts`` is the condition's prompt folder (it may not exist).
    """

    id: str
    path: Path
    experiment: str
    model: str
    condition: Condition
    sample: str
    prompts: Path
    response: Mapping[str, Any]

    def metadata(self) -> dict[str, Any]:
        """The transcript metadata: where the sample came from and its condition's parts."""
        return {
            "source": "am-results",
            "experiment": self.experiment,
            "model": self.model,
            "sample": self.sample,
            **self.condition.to_metadata(),
        }


def _response_files(paths: Iterable[str | Path]) -> Iterator[Path | InputError]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.rglob("response.json"))
            if not found:
                yield InputError(
                    f"no response.json below this folder (expected {_LAYOUT})", source=str(path)
                )
            yield from found
        elif path.exists():
            yield path
        else:
            yield InputError("cannot open (No such file or directory)", source=str(path))


def _sample(path: Path, scenarios: Mapping[str, str]) -> StudySample | InputError:
    source = str(path)
    sample_dir = path.parent
    condition_dir = sample_dir.parent
    model_dir = condition_dir.parent
    if not sample_dir.name.startswith("sample_") or not model_dir.name:
        return InputError(f"not in the study's layout ({_LAYOUT})", source=source)
    experiment_dir = (
        model_dir.parent.parent if model_dir.parent.name == "models" else model_dir.parent
    )
    condition = parse_condition(condition_dir.name, scenarios=scenarios)
    item_id = f"{experiment_dir.name}/{model_dir.name}/{condition.id}/{sample_dir.name}"
    try:
        response = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        return InputError(f"cannot open ({exc.strerror})", source=source, item_id=item_id)
    except UnicodeDecodeError as exc:
        return InputError(f"invalid UTF-8 at byte {exc.start + 1}", source=source, item_id=item_id)
    except json.JSONDecodeError as exc:
        return InputError(
            f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            source=source,
            item_id=item_id,
        )
    if not isinstance(response, dict):
        return InputError("expected a JSON object", source=source, item_id=item_id)
    return StudySample(
        id=item_id,
        path=path,
        experiment=experiment_dir.name,
        model=model_dir.name,
        condition=condition,
        sample=sample_dir.name,
        prompts=experiment_dir / "prompts" / condition.id,
        response=response,
    )


def find_samples(
    paths: Iterable[str | Path], *, scenarios: Mapping[str, str] = SCENARIO_HARMS
) -> Iterator[StudySample | InputError]:
    """Every sample below ``paths`` (results folders, or ``response.json`` files), in path order,
    with its ``response.json`` decoded; a file that cannot be read is an :class:`InputError`."""
    for entry in _response_files(paths):
        yield entry if isinstance(entry, InputError) else _sample(entry, scenarios)


def _given(prompts: Path, cache: dict[Path, dict[str, str]]) -> dict[str, str]:
    """The condition's prompts as record fields: the system prompt is the operator's
    ``instructions``; the user prompt and the emails are the ``context`` (whose email blocks are
    the scenario's facts and whose other text, the user prompt, is read as instructions too)."""
    if prompts not in cache:
        text = {
            name: (prompts / name).read_text(encoding="utf-8").strip()
            for name in _PROMPT_FILES
            if (prompts / name).is_file()
        }
        fields = {
            "instructions": text.get("system_prompt.txt", ""),
            "context": "\n\n".join(
                p for p in (text.get("user_prompt.txt"), text.get("email_content.txt")) if p
            ),
        }
        cache[prompts] = {k: v for k, v in fields.items() if v}
    return cache[prompts]


def _raw_response(sample: StudySample) -> str | InputError:
    raw = sample.response.get("raw_response")
    if isinstance(raw, str):
        return raw
    if raw is None and "error" in sample.response:
        reason = f"no raw_response: the run failed ({one_line(str(sample.response['error']))})"
    elif raw is None:
        reason = "no raw_response"
    else:
        reason = f"raw_response must be text; got {type(raw).__name__}"
    return InputError(reason, source=str(sample.path), item_id=sample.id)


def read_am_results(
    paths: Iterable[str | Path],
    *,
    prompts: bool = True,
    scenarios: Mapping[str, str] = SCENARIO_HARMS,
) -> Iterator[SourcedRecord | InputError]:
    """Read the study's results folders as transcripts, one per sample.

    Each sample's ``raw_response`` is the transcript text (the study format), its id is
    ``<experiment>/<model>/<condition>/<sample folder>``, and its metadata holds the experiment,
    model, sample and the condition's parts. With ``prompts`` (the default), the condition's
    prompts, when found in ``<experiment>/prompts/<condition>/``, are what the agent was given:
    the system prompt as the operator's ``instructions``, the user prompt and the emails as
    ``context``. Like :func:`harmjudge.transcript.io.read_records`, it yields
    each record where it was found, or the :class:`InputError` it caused, and never stops.

    >>> [r.record.id for r in read_am_results(["tests/fixtures/am_results/results/exp-flat"])]
    ['exp-flat/model-c/leaking_explicit-global_replacement/sample_001']
    """
    cache: dict[Path, dict[str, str]] = {}

    def records() -> Iterator[SourcedRecord | InputError]:
        for sample in find_samples(paths, scenarios=scenarios):
            if isinstance(sample, InputError):
                yield sample
                continue
            raw = _raw_response(sample)
            if isinstance(raw, InputError):
                yield raw
                continue
            data: dict[str, Any] = {"id": sample.id, "text": raw, "metadata": sample.metadata()}
            if prompts:
                data.update(_given(sample.prompts, cache))
            yield sourced(data, source=str(sample.path), line=1)

    return unique_ids(records())


def _study_row(sample: StudySample, verdict: StudyVerdict) -> VerdictRow | InputError:
    def error(reason: str) -> InputError:
        return InputError(reason, source=str(sample.path), item_id=sample.id)

    if sample.condition.harm is None:
        return error(
            f"scenario {sample.condition.scenario!r} maps to no harm (pass scenarios= with it)"
        )
    block = sample.response.get("classification")
    if block is None:
        raw = _raw_response(sample)
        if isinstance(raw, InputError):
            return raw
        return error("no classification: the study's classifier has not run on this sample")
    if not isinstance(block, dict):
        return error("classification must be a JSON object")
    if "error" in block:
        return VerdictRow(label="unjudged")
    value = block.get(verdict)
    if not isinstance(value, bool):
        return error(f"classification.{verdict} must be true or false; got {value!r}")
    return VerdictRow(label="harmful" if value else "not_harmful")


def read_am_verdicts(
    paths: Iterable[str | Path],
    *,
    name: str = "study",
    verdict: StudyVerdict = "harmful_behavior",
    scenarios: Mapping[str, str] = SCENARIO_HARMS,
) -> VerdictTable:
    """The study's own classifier verdicts as a judge's :class:`~harmjudge.metrics.VerdictTable`.

    Each classified sample gives one verdict, for the harm its scenario tests, keyed by the same
    id as :func:`read_am_results`. ``verdict`` chooses the study's final ``harmful_behavior``
    (the default) or the judge model's own ``classifier_verdict``. A classifier failure recorded
    in the file is ``unjudged``; a sample without a classification, or whose scenario maps to no
    harm, is an error in ``errors`` (never a silent gap). The study gives no confidence.

    >>> table = read_am_verdicts(["tests/fixtures/am_results/results"])
    >>> table.get("exp-harrowgate/model-a/blackmail_explicit-america_replacement/sample_001", "blackmail")
    VerdictRow(label='harmful', confidence=None, gate=None, gated=False, kind=None)
    """
    if verdict not in STUDY_VERDICTS:
        raise invalid_parameter("read_am_verdicts", "verdict", one_of(STUDY_VERDICTS), verdict)
    sources = tuple(str(p) for p in paths)
    rows: dict[tuple[str, str], VerdictRow] = {}
    errors: list[InputError] = []
    for sample in find_samples(sources, scenarios=scenarios):
        if isinstance(sample, InputError):
            errors.append(sample)
            continue
        row = _study_row(sample, verdict)
        if isinstance(row, InputError):
            errors.append(row)
            continue
        key = (sample.id, sample.condition.harm or "")
        if key in rows:
            errors.append(
                InputError(
                    f"duplicate verdict for harm {key[1]!r}",
                    source=str(sample.path),
                    item_id=sample.id,
                )
            )
            continue
        rows[key] = row
    return VerdictTable(name=name, rows=rows, errors=tuple(errors), sources=sources)
