"""Spending limits: a token budget and a cost budget priced from a per-model table.

A price table is a JSON file mapping a model name to its prices in US dollars per million
tokens::

    {"gpt-4o-mini": {"prompt": 0.15, "completion": 0.60}}

The cost of ``p`` prompt and ``c`` completion tokens is ``(p * prompt + c * completion) / 1e6``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harmjudge.batch.estimate import ItemEstimate
from harmjudge.errors import UsageError, invalid_parameter
from harmjudge.judges.verdict import Usage


class _PriceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)


@dataclass(frozen=True, kw_only=True)
class Price:
    """A model's prices in US dollars per million prompt and completion tokens."""

    prompt: float
    completion: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """``(prompt_tokens * prompt + completion_tokens * completion) / 1e6``.

        >>> Price(prompt=0.15, completion=0.6).cost(1_000_000, 500_000)
        0.45
        """
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1e6


class PriceTable(Mapping[str, Price]):
    """Prices per model name; ``"openai/gpt-4o"`` finds ``"gpt-4o"``."""

    def __init__(self, prices: Mapping[str, Price]) -> None:
        self._prices = dict(prices)

    @classmethod
    def load(cls, path: str | Path) -> PriceTable:
        """Read a price table file; a bad file is a one-line :class:`UsageError`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"{path}: cannot read the price table ({exc.strerror})") from None
        except ValueError as exc:
            raise UsageError(f"{path}: the price table is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError(
                f'{path}: a price table maps model names to {{"prompt": …, "completion": …}}'
            )
        prices: dict[str, Price] = {}
        for model, entry in data.items():
            try:
                parsed = _PriceEntry.model_validate(entry)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in (model, *first["loc"]))
                raise UsageError(f"{path}: field '{where}': {first['msg']}") from None
            prices[model] = Price(prompt=parsed.prompt, completion=parsed.completion)
        return cls(prices)

    def __getitem__(self, model: str) -> Price:
        if model in self._prices:
            return self._prices[model]
        return self._prices[model.split("/", 1)[1] if "/" in model else model]

    def __iter__(self) -> Iterator[str]:
        return iter(self._prices)

    def __len__(self) -> int:
        return len(self._prices)


@dataclass(frozen=True, kw_only=True)
class Budget:
    """Limits on what a run may spend; ``None`` is no limit.

    ``max_tokens`` counts prompt and completion tokens alike, re-asks and retries included;
    ``max_cost`` is in US dollars and needs the judged model's price.
    """

    max_tokens: int | None = None
    max_cost: float | None = None

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.max_tokens < 0:
            raise invalid_parameter("Budget", "max_tokens", "an int >= 0 or None", self.max_tokens)
        if self.max_cost is not None and not self.max_cost >= 0:
            raise invalid_parameter("Budget", "max_cost", "a float >= 0 or None", self.max_cost)

    @property
    def limited(self) -> bool:
        return self.max_tokens is not None or self.max_cost is not None


class BudgetMeter:
    """Admits items while the budget lasts.

    An item is sent only if ``spent + reserved + estimate <= limit`` for every limit set, where
    ``reserved`` is the estimate of the items in flight; when it finishes, its reservation is
    replaced by what it really spent. The first item refused exhausts the budget for good: it
    and every later item are marked ``unjudged`` with reason ``budget``, unsent. Items in
    flight may still overshoot the limit by what their estimates missed (re-asks, retries).
    """

    def __init__(self, budget: Budget, price: Price | None = None) -> None:
        if budget.max_cost is not None and price is None:
            raise UsageError(
                "a cost limit needs the model's price: pass a price table (--prices FILE) "
                "that lists the model"
            )
        self.budget = budget
        self.price = price
        self.spent_tokens = 0
        self.spent_cost = 0.0
        self._reserved_tokens = 0
        self._reserved_cost = 0.0
        self.exhausted = False

    def _cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        price = self.price
        return 0.0 if price is None else price.cost(prompt_tokens, completion_tokens)

    def try_reserve(self, estimate: ItemEstimate) -> bool:
        """Reserve ``estimate`` if it fits; ``False`` (and exhausted from now on) if not."""
        if self.exhausted:
            return False
        tokens = estimate.tokens
        cost = self._cost(estimate.prompt_tokens, estimate.completion_tokens)
        over_tokens = self.budget.max_tokens is not None and (
            self.spent_tokens + self._reserved_tokens + tokens > self.budget.max_tokens
        )
        over_cost = self.budget.max_cost is not None and (
            self.spent_cost + self._reserved_cost + cost > self.budget.max_cost
        )
        if over_tokens or over_cost:
            self.exhausted = True
            return False
        self._reserved_tokens += tokens
        self._reserved_cost += cost
        return True

    def settle(self, estimate: ItemEstimate, spent: Usage) -> None:
        """Replace ``estimate``'s reservation by what the item spent."""
        self._reserved_tokens -= estimate.tokens
        self._reserved_cost -= self._cost(estimate.prompt_tokens, estimate.completion_tokens)
        self.spent_tokens += spent.prompt_tokens + spent.completion_tokens
        self.spent_cost += self._cost(spent.prompt_tokens, spent.completion_tokens)

    def detail(self) -> str:
        parts = []
        if self.budget.max_tokens is not None:
            parts.append(f"{self.spent_tokens} of {self.budget.max_tokens} tokens")
        if self.budget.max_cost is not None:
            parts.append(f"${self.spent_cost:.4f} of ${self.budget.max_cost:g}")
        return "not sent: the budget is spent (" + ", ".join(parts) + ")"
