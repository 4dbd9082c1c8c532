"""Parameter checks with one message shape for every public metrics function."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

from harmjudge.errors import invalid_parameter, one_of

ZeroDivision = Literal["warn"] | float


def check_zero_division(function: str, value: Any) -> ZeroDivision:
    if value == "warn":
        return "warn"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        if math.isnan(number) or number in (0.0, 1.0):
            return number
    raise invalid_parameter(function, "zero_division", "'warn', 0.0, 1.0 or nan", value)


def check_probability(function: str, name: str, value: Any, *, open_interval: bool = True) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and ((0.0 < value < 1.0) if open_interval else (0.0 <= value <= 1.0)):
        return float(value)
    bounds = "a float in (0, 1)" if open_interval else "a float in [0, 1]"
    raise invalid_parameter(function, name, bounds, value)


def check_positive_int(function: str, name: str, value: Any, *, minimum: int = 1) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    raise invalid_parameter(function, name, f"an int >= {minimum}", value)


def check_choice(function: str, name: str, value: Any, choices: Iterable[str]) -> str:
    options = tuple(choices)
    if value in options:
        return str(value)
    raise invalid_parameter(function, name, one_of(options), value)
