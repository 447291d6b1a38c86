"""One state machine mechanism: a table of allowed moves and one way to move.

A :class:`Machine` is declared once per model with its table (from-state → allowed to-states),
the name of its state field and the writer of its event row. :meth:`Machine.move` locks the
row (``select_for_update``), checks the move against the table, applies the field changes,
saves and writes the event, all in one transaction, so a state and its history never disagree
and two movers at once cannot both move from the same state. A refused move raises
:class:`InvalidTransition` and changes nothing.

Each app keeps its own public function (``workflow.transition``, ``grants.transition``, …) as
a thin wrapper that checks its rights and words its messages; the mechanism is this one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction


class InvalidTransition(ValidationError, ValueError):
    """The object cannot move from its state to the asked one.

    A :class:`~django.core.exceptions.ValidationError` (forms and views show its messages)
    and a :class:`ValueError` (code that catches a bad value keeps working). An app whose
    callers catch its own error class subclasses both, e.g. ``(InvalidTransition,
    FeedbackError)``."""

    def __str__(self) -> str:
        return "; ".join(str(message) for message in self.messages)


def _state(instance_or_state: Any, field: str) -> Any:
    return (
        getattr(instance_or_state, field)
        if isinstance(instance_or_state, models.Model)
        else instance_or_state
    )


class Machine:
    """The allowed moves of a model's state ``field`` and how a move is recorded.

    ``record(locked, from_state, to_state, *, by, changes, **event)`` writes the event row
    (``None``: the state change itself is the record). ``message(locked, to_state)`` words a
    refusal and ``error`` is raised with it (``InvalidTransition`` or a subclass).
    ``update_fields`` set: save only the state, the changed fields and these (e.g. an
    ``auto_now`` ``updated_at``); ``None``: save the whole row."""

    def __init__(
        self,
        table: Mapping[Any, Iterable[Any]],
        *,
        field: str = "state",
        record: Callable[..., Any] | None = None,
        message: Callable[[Any, str], Any] | None = None,
        error: type[InvalidTransition] = InvalidTransition,
        update_fields: Iterable[str] | None = None,
    ) -> None:
        self.table, self.field = table, field
        self.record, self.error = record, error
        self.message = message or (
            lambda obj, to: f"{type(obj).__name__} {obj.pk}: {getattr(obj, field)} → {to}"
        )
        self.update_fields = None if update_fields is None else tuple(update_fields)

    def allowed(self, instance_or_state: Any) -> set:
        """The states an object (or a state) may move to; empty for a final or unknown one."""
        return set(self.table.get(_state(instance_or_state, self.field), ()))

    def can(self, instance_or_state: Any, to_state: Any) -> bool:
        return to_state in self.allowed(instance_or_state)

    def check(self, instance: models.Model, to_state: Any) -> None:
        """Raise :attr:`error` if ``instance`` may not move to ``to_state``."""
        if not self.can(instance, to_state):
            raise self.error(self.message(instance, to_state))

    def move(
        self,
        instance: models.Model,
        to_state: Any,
        *,
        by: Any = None,
        event: dict[str, Any] | None = None,
        guard: Callable[[models.Model], None] | None = None,
        check: Callable[[models.Model, dict, dict], None] | None = None,
        **changes: Any,
    ) -> models.Model:
        """Lock ``instance``'s row, check the move, apply ``changes``, save, write the event.

        ``guard(locked)`` runs before the table is consulted (e.g. a right that depends on
        the row); ``check(locked, changes, event)`` after it, before anything is written: it
        raises to refuse and may add field changes and event details. ``instance`` is brought
        up to date with the locked row (so a refused caller sees why) and, after the move, with
        the saved one, and returned."""
        event = dict(event or {})
        with transaction.atomic():
            locked = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
            _copy(locked, instance)
            if guard:
                guard(locked)
            self.check(locked, to_state)
            if check:
                check(locked, changes, event)
            from_state = getattr(locked, self.field)
            setattr(locked, self.field, to_state)
            for name, value in changes.items():
                setattr(locked, name, value)
            if self.update_fields is None:
                locked.save()
            else:
                locked.save(update_fields=[self.field, *changes, *self.update_fields])
            if self.record:
                self.record(locked, from_state, to_state, by=by, changes=changes, **event)
        _copy(locked, instance)
        return instance


def _copy(source: models.Model, target: models.Model) -> None:
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
