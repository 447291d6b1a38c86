"""The indicator registry: every indicator's definition in words (names, numerator,
denominator, unit, source) and its function, and the :class:`Value` every function returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .snapshots import Snapshot

PERCENT = "percent"
COUNT = "count"
FLAG = "flag"
STATUS = "status"
CALLS = "calls_per_month"
CHANGE = "percent_change"  # a signed relative change, in percent
MONEY = "rials"
DAYS = "days"  # a duration in days, one decimal

# What a figure rests on: what agencies and the catalogue declare, or what the window's own
# activity (applications, sign-ins) shows. Every indicator says which; pages and exports too.
DECLARED = "declared"
OBSERVED = "observed"
BASIS_LABELS = {DECLARED: _("Declared"), OBSERVED: _("Observed")}


@dataclass
class Value:
    """One computed figure. ``value`` is what is shown; numerator and denominator let anyone
    check it. ``available`` is False when the source has no data (nothing is estimated)."""

    value: Any
    numerator: float | None = None
    denominator: float | None = None
    available: bool = True
    note: str = ""
    withheld: bool = False  # too few ratings to show without revealing someone's score

    def as_dict(self) -> dict:
        return {k: (str(v) if k == "note" else v) for k, v in asdict(self).items()}

    # Results are kept in the cache (oversight.views.result_for) with a note per value in the
    # reader's language to come (a lazy translation). Django unpickles each lazy string by
    # building a new proxy class (about a millisecond each, so seconds for a page of agencies);
    # a note is kept as its message id and made lazy again with the one gettext_lazy instead.
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        msgid = _message_id(self.note)
        if msgid is not None:
            state["note"] = _LazyNote(msgid)
        return state

    def __setstate__(self, state: dict) -> None:
        if isinstance(state.get("note"), _LazyNote):
            state = {**state, "note": _(state["note"].msgid)}
        self.__dict__.update(state)


@dataclass(frozen=True)
class _LazyNote:
    msgid: str


def _message_id(note: Any) -> str | None:
    """The message id of a ``gettext_lazy`` string; None for anything else."""
    if not isinstance(note, Promise):
        return None
    try:
        func, args, kwargs = note.__reduce__()[1][:3]
    except (AttributeError, TypeError, ValueError):
        return None
    if func is gettext and len(args) == 1 and not kwargs and isinstance(args[0], str):
        return args[0]
    return None


def no_data(note: str) -> Value:
    return Value(None, available=False, note=note)


def ratio(numerator: int, denominator: int) -> Value:
    pct = round(100.0 * numerator / denominator, 1) if denominator else None
    return Value(pct, numerator, denominator, available=denominator > 0)


@dataclass(frozen=True)
class Indicator:
    code: str
    name_fa: str
    name_en: str
    definition_fa: str
    numerator: str
    denominator: str
    unit: str
    source: str
    levels: tuple[str, ...]
    compute: Callable[[Snapshot, int | None], Value]
    definition_en: str = ""
    basis: str = DECLARED

    @property
    def basis_label(self) -> str:
        return str(BASIS_LABELS[self.basis])

    def definition(self) -> dict:
        return {
            "code": self.code,
            "name_fa": self.name_fa,
            "name_en": str(self.name_en),
            "definition_fa": self.definition_fa,
            "definition_en": str(self.definition_en),
            "numerator": str(self.numerator),
            "denominator": str(self.denominator),
            "unit": self.unit,
            "source": str(self.source),
            "levels": list(self.levels),
            "basis": self.basis,
        }


class Registry:
    """Indicators in registration order (the order in which pages and exports list them)."""

    def __init__(self) -> None:
        self._items: dict[str, Indicator] = {}

    def register(
        self,
        code: str,
        *,
        name_fa: str,
        name_en: str,
        definition_fa: str,
        numerator: str,
        denominator: str,
        unit: str,
        source: str,
        levels: tuple[str, ...] = ("national", "agency"),
        definition_en: str = "",
        basis: str = DECLARED,
    ) -> Callable:
        def decorator(fn: Callable[[Snapshot, int | None], Value]):
            if code in self._items:
                raise ValueError(f"indicator {code!r} registered twice")
            self._items[code] = Indicator(
                code, name_fa, name_en, definition_fa, numerator, denominator, unit, source,
                levels, fn, definition_en, basis,
            )  # fmt: skip
            return fn

        return decorator

    def __iter__(self):
        return iter(self._items.values())

    def __getitem__(self, code: str) -> Indicator:
        return self._items[code]

    def for_level(self, level: str) -> list[Indicator]:
        return [i for i in self if level in i.levels]


registry = Registry()
