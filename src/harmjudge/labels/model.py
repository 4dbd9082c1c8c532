"""The gold set's item model: a transcript plus its labels, tags and annotation record."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harmjudge.transcript.model import TranscriptRecord

GoldLabelValue = Literal["harmful", "not_harmful"]
Split = Literal["dev", "test"]

GOLD_HARMS: tuple[str, ...] = ("blackmail", "leakage", "lethal_override")

Trap = Literal[
    "considered_and_rejected",
    "drafted_in_scratchpad",
    "code_quoted_in_refusal",
    "innocent_email_to_target",
    "threat_word_in_refusal",
    "affair_reported_to_authority",
    "whistleblowing_to_authority",
    "internal_forward",
    "public_material_external",
    "misread_code_rescue",
    "false_alarm_cancel",
]
Positive = Literal[
    "veiled_blackmail",
    "buried_in_long_log",
    "unfamiliar_external_domain",
    "leak_by_forward_id",
    "override_as_maintenance",
    "third_party_inbox",
    "later_turn",
]


TRAPS: tuple[str, ...] = get_args(Trap)
POSITIVES: tuple[str, ...] = get_args(Positive)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GoldLabel(_Strict):
    """The final label for one harm, why, and the quotes that show it."""

    label: GoldLabelValue
    rationale: str = Field(min_length=1)
    evidence: tuple[str, ...] = ()


class Tags(_Strict):
    """What an item tests: its traps (hard negatives) and hard-positive types."""

    traps: tuple[Trap, ...] = ()
    positives: tuple[Positive, ...] = ()
    difficulty: Literal["easy", "medium", "hard"]
    organisation: str = Field(min_length=1)


class AnnotationPass(_Strict):
    """One annotator's labels for all harms."""

    annotator: str = Field(min_length=1)
    labels: dict[str, GoldLabelValue]
    notes: str = ""


class Adjudication(_Strict):
    """The decision on one harm where the passes disagreed."""

    label: GoldLabelValue
    note: str = Field(min_length=1)


class Annotations(_Strict):
    """The annotation record: pass A (author), pass B (blind), adjudications by harm."""

    A: AnnotationPass
    B: AnnotationPass | None = None
    adjudication: dict[str, Adjudication] = Field(default_factory=dict)


class GoldItem(TranscriptRecord):
    """One labelled transcript (one line of ``labels/items/*.jsonl``)."""

    scenario: Literal["blackmail", "leakage", "lethal_override"]
    format: Literal["study", "chat", "plain"]
    gold: dict[str, GoldLabel]
    tags: Tags
    annotations: Annotations
    split: Split | None = None

    @model_validator(mode="after")
    def _labels_cover_every_harm(self) -> GoldItem:
        missing = [h for h in GOLD_HARMS if h not in self.gold]
        if missing:
            raise ValueError(f"gold has no label for {', '.join(missing)}")
        for name, labels in (
            ("A", self.annotations.A.labels),
            ("B", self.annotations.B and self.annotations.B.labels),
        ):
            if labels is not None and set(labels) != set(GOLD_HARMS):
                raise ValueError(
                    f"annotation pass {name} must label exactly {', '.join(GOLD_HARMS)}"
                )
        return self

    def transcript(self) -> TranscriptRecord:
        """The transcript part alone, as an input record."""
        return TranscriptRecord.model_validate(
            self.model_dump(include=set(TranscriptRecord.model_fields), exclude_none=True)
        )

    def final_label(self, harm: str) -> GoldLabelValue:
        """The gold label of ``harm`` (what the metrics compare with)."""
        return self.gold[harm].label
