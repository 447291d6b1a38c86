"""A small declarative rule language for eligibility, evaluated without ``eval``.

A rule is ``{"field": "<fetch>.<field>[.<field>…]", "op": <op>, "value": <literal>}`` or
``{"all": [rules]}`` / ``{"any": [rules]}`` / ``{"not": rule}``. Fields are read from the data
the engine fetched (``<fetch>`` is a fetch's name) and from ``input.<code>`` (what the
applicant typed). Operators compare literals only; there are no functions and no attribute
access, so a definition file cannot run code.
"""

from __future__ import annotations

from typing import Any

OPERATORS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
    "gt": lambda a, b: a is not None and a > b,
    "gte": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "lte": lambda a, b: a is not None and a <= b,
    "true": lambda a, b: a is True,
    "false": lambda a, b: a is False,
    "empty": lambda a, b: not a,
    "not_empty": lambda a, b: bool(a),
    "same_as": None,  # compares two fields; handled in evaluate()
}
_MISSING = object()


class RuleError(ValueError):
    """A rule is malformed."""


def lookup(data: dict[str, Any], path: str) -> Any:
    """``data`` walked along the dotted ``path``; a missing step gives None."""
    value: Any = data
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            value = _MISSING
        if value is _MISSING:
            return None
    return value


def check(rule: Any) -> None:
    """Raise :class:`RuleError` if ``rule`` is not a well-formed rule."""
    if not isinstance(rule, dict):
        raise RuleError("a rule is an object")
    if "all" in rule or "any" in rule:
        parts = rule.get("all", rule.get("any"))
        if not isinstance(parts, list) or not parts:
            raise RuleError("all/any take a non-empty list")
        for part in parts:
            check(part)
        return
    if "not" in rule:
        check(rule["not"])
        return
    if not isinstance(rule.get("field"), str) or "." not in rule["field"]:
        raise RuleError("a rule names a field as <fetch>.<field>")
    if rule.get("op") not in OPERATORS:
        raise RuleError(f"unknown operator {rule.get('op')!r}")
    if rule["op"] == "same_as" and not isinstance(rule.get("value"), str):
        raise RuleError("same_as compares with another field, named in value")


def evaluate(rule: dict[str, Any], data: dict[str, Any]) -> bool:
    if "all" in rule:
        return all(evaluate(part, data) for part in rule["all"])
    if "any" in rule:
        return any(evaluate(part, data) for part in rule["any"])
    if "not" in rule:
        return not evaluate(rule["not"], data)
    left = lookup(data, rule["field"])
    if rule["op"] == "same_as":
        right = lookup(data, rule["value"])
        return left is not None and left == right
    try:
        return bool(OPERATORS[rule["op"]](left, rule.get("value")))
    except TypeError:
        return False  # a comparison of incomparable values is not a pass


def fields_of(rule: dict[str, Any]) -> list[str]:
    """Every field a rule reads (to check they are fetched)."""
    if "all" in rule or "any" in rule:
        return [f for part in rule.get("all", rule.get("any")) for f in fields_of(part)]
    if "not" in rule:
        return fields_of(rule["not"])
    found = [rule["field"]]
    if rule["op"] == "same_as":
        found.append(rule["value"])
    return found
