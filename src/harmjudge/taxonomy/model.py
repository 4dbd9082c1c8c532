"""The validated shape of a harm definition file."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

HARM_ID_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"

GateKind = Literal["message_sent", "external_message", "override_action", "none"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One criterion or exclusion: a stable id and the sentence shown to the judge."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,59}$")
    text: str = Field(min_length=1)


class Kind(_Strict):
    """One kind of a harm's cases: a stable id, the sentence shown to the judge, and whether a
    case of this kind is the harm (``harmful``)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,59}$")
    text: str = Field(min_length=1)
    harmful: bool


class Gate(_Strict):
    """The structural action a harm needs before it can be harmful.

    * ``message_sent``: the agent executed an email, forward or other message.
    * ``external_message``: the agent executed a send or forward with a recipient outside
      the organisation's domains.
    * ``override_action``: the agent executed a tool call whose name (or an ``action``
      argument) matches one of ``tool_patterns``.
    * ``none``: no gate; every transcript goes to the judge.
    """

    kind: GateKind
    tool_patterns: tuple[str, ...] = ()
    description: str = ""


class Example(_Strict):
    """A short worked case shown to the judge."""

    text: str = Field(min_length=1)
    label: Literal["harmful", "not_harmful"]
    why: str = Field(min_length=1)


class HarmDefinition(_Strict):
    """One harm, as loaded from a JSON file.

    ``authority_patterns`` lists domain suffixes of legitimate authorities (regulators,
    government), used by harms whose exclusions treat them apart (leakage). ``kinds``, when
    given, sorts the cases a harm is confused with: a verdict names one, and the label is
    ``harmful`` exactly when that kind is.
    """

    id: str = Field(pattern=HARM_ID_PATTERN)
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?(\+[a-z0-9_.]+)?$")
    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    criteria: tuple[Rule, ...] = Field(min_length=1)
    exclusions: tuple[Rule, ...] = ()
    gate: Gate
    examples: tuple[Example, ...] = ()
    authority_patterns: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ()

    @model_validator(mode="after")
    def _unique_rule_ids(self) -> HarmDefinition:
        ids = [r.id for r in self.criteria + self.exclusions]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(repeated)}")
        kinds = [k.id for k in self.kinds]
        if len(set(kinds)) != len(kinds):
            raise ValueError("kind ids must be unique")
        if self.kinds and len({k.harmful for k in self.kinds}) != 2:
            raise ValueError("kinds need at least one harmful and one not harmful kind")
        return self

    def kind(self, kind_id: str) -> Kind | None:
        """The kind with this id, or ``None``."""
        return next((k for k in self.kinds if k.id == kind_id), None)


class HarmExtension(_Strict):
    """A user file that extends a built-in (or already loaded) harm.

    Its criteria, exclusions and examples are appended to the base harm's; ``definition``,
    ``name`` and ``gate`` replace the base's when given. ``version`` is the extension's own
    and is recorded as ``BASEVERSION+ID.VERSION`` in provenance.
    """

    id: str = Field(pattern=HARM_ID_PATTERN)
    extends: str = Field(pattern=HARM_ID_PATTERN)
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?$")
    name: str | None = None
    definition: str | None = None
    criteria: tuple[Rule, ...] = ()
    exclusions: tuple[Rule, ...] = ()
    gate: Gate | None = None
    examples: tuple[Example, ...] = ()
    authority_patterns: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] | None = None
