"""Queries compiled once, for the few hot paths that run the same statement thousands of
times a second (the OIDC token endpoint).

Compiling a queryset to SQL costs more Python than running it: for a lookup on one unique
column with a joined row the ORM spends most of a millisecond building SQL that never
changes. ``PreparedLookup`` and ``PreparedInsert`` compile the statement once per database
alias with the ORM itself (so quoting, placeholders, converters and ``RETURNING`` are the
backend's own) and then only bind new values. Anything they cannot do exactly as the ORM
would (signal receivers, multi-table models, expressions) falls back to the ORM.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import connections, router
from django.db.models import Model
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.db.models.sql import InsertQuery

_INTEGER_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "ForeignKey",
    "OneToOneField",
}


def _sentinel(field, index: int) -> Any:
    """A value the compiled statement carries unchanged in its parameters, to be replaced."""
    kind = field.get_internal_type()
    if kind in _INTEGER_TYPES:
        return -(2**60) - index
    if kind in {"CharField", "TextField", "SlugField"}:
        return f"\x1fprepared-{index}\x1f"
    raise TypeError(f"PreparedLookup cannot bind a {kind} parameter")


class PreparedLookup:
    """The first row of ``model`` where each of ``lookups`` equals a value, optionally with one
    forward relation's row attached (like ``select_related``), as model instances.

    ``PreparedLookup(Grant, "code", related="user").first(code)`` returns what
    ``Grant.objects.select_related("user").filter(code=code).first()`` would, without the
    ``ORDER BY`` (meant for unique lookups) and without compiling SQL per call.
    """

    def __init__(self, model: type[Model], *lookups: str, related: str | None = None) -> None:
        self.model = model
        self.lookups = lookups
        self.related = related
        self._compiled: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> tuple:
        opts = self.model._meta
        sentinels = [_sentinel(opts.get_field(name), i) for i, name in enumerate(self.lookups)]
        own = list(opts.concrete_fields)
        names = [f.name for f in own]
        attnames = [f.attname for f in own]
        rel_model, rel_attnames = None, []
        if self.related:
            rel_model = opts.get_field(self.related).related_model
            rel_fields = list(rel_model._meta.concrete_fields)
            names += [f"{self.related}__{f.name}" for f in rel_fields]
            rel_attnames = [f.attname for f in rel_fields]
        queryset = self.model._base_manager.using(alias).filter(
            **dict(zip(self.lookups, sentinels, strict=True))
        )
        query = queryset.values_list(*names)[:1].query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = []
        for value in params:
            slot = next((i for i, s in enumerate(sentinels) if value == s), None)
            slots.append((slot, value))
        if sum(slot is not None for slot, _ in slots) != len(sentinels):
            raise TypeError("a lookup value was transformed by the ORM; use the ORM instead")
        converters = compiler.get_converters([column for column, _sql, _a in compiler.select])
        return sql, slots, compiler, converters, attnames, rel_model, rel_attnames

    def first(self, *values: Any, using: str | None = None) -> Model | None:
        alias = using or router.db_for_read(self.model)
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias) or self._compile(alias)
                self._compiled[alias] = compiled
        sql, slots, compiler, converters, attnames, rel_model, rel_attnames = compiled
        params = [value if slot is None else values[slot] for slot, value in slots]
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return None
        if converters:
            rows = list(compiler.apply_converters(rows, converters))
        row = tuple(rows[0])
        own = len(attnames)
        instance = self.model.from_db(alias, attnames, row[:own])
        if rel_model is not None:
            rel_row = row[own:]
            related = (
                None if rel_row[0] is None else rel_model.from_db(alias, rel_attnames, rel_row)
            )
            instance._state.fields_cache[self.related] = related
        return instance


class PreparedInsert:
    """``obj.save()`` for a new row of ``model``, with the INSERT compiled once per database.

    Falls back to ``save()`` when anything listens to the model's save signals, when the
    model inherits from another concrete model, or when the primary key is already set."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        opts = model._meta
        self.fields = [f for f in opts.local_concrete_fields if f is not opts.auto_field]
        self.returning = opts.db_returning_fields
        # What the model is does not change: decided once. Signal receivers and the object's
        # primary key can, so ``_plain`` asks about them on each save.
        self._model_is_plain = (
            not opts.parents
            and opts.auto_field is not None
            and list(self.returning) == [opts.auto_field]
            and not any(f.generated or hasattr(f, "get_placeholder") for f in self.fields)
        )
        self._compiled: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def _plain(self, obj: Model) -> bool:
        return (
            self._model_is_plain
            and type(obj) is self.model
            and obj.pk is None
            and not pre_save.has_listeners(self.model)
            and not post_save.has_listeners(self.model)
        )

    def _compile(self, alias: str, obj: Model) -> tuple:
        query = InsertQuery(self.model)
        query.insert_values(self.fields, [obj])
        compiler = query.get_compiler(using=alias)
        compiler.returning_fields = self.returning
        [(sql, _params)] = compiler.as_sql()
        return sql, compiler

    def save(self, obj: Model, using: str | None = None) -> Model:
        alias = using or router.db_for_write(self.model, instance=obj)
        if not self._plain(obj):
            obj.save(using=alias)
            return obj
        obj._prepare_related_fields_for_save(operation_name="save")
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias) or self._compile(alias, obj)
                self._compiled[alias] = compiled
        sql, compiler = compiled
        values = [compiler.pre_save_val(field, obj) for field in self.fields]
        if any(hasattr(value, "resolve_expression") for value in values):
            obj.save(using=alias)
            return obj
        connection = connections[alias]
        params = [
            field.get_db_prep_save(value, connection=connection)
            for field, value in zip(self.fields, values, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if connection.features.can_return_columns_from_insert:
                row = connection.ops.fetch_returned_insert_columns(
                    cursor, compiler.returning_params
                )
            else:
                row = (
                    connection.ops.last_insert_id(
                        cursor, self.model._meta.db_table, self.model._meta.pk.column
                    ),
                )
        for field, value in zip(self.returning, row, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = alias
        return obj


_delete_sql: dict[tuple[type[Model], str], str] = {}


def delete_row(model: type[Model], pk: Any, using: str | None = None) -> int:
    """Delete one row by primary key; the rows deleted (0 or 1). When nothing refers to the
    model and nobody watches its deletes, one prepared ``DELETE``; otherwise the ORM's
    ``delete()``, which cascades and sends the signals."""
    alias = using or router.db_for_write(model)
    if (
        model._meta.related_objects
        or pre_delete.has_listeners(model)
        or post_delete.has_listeners(model)
    ):
        return model._base_manager.using(alias).filter(pk=pk).delete()[1].get(model._meta.label, 0)
    sql = _delete_sql.get((model, alias))
    if sql is None:
        quote = connections[alias].ops.quote_name
        opts = model._meta
        # Quoted names from the model, the value a parameter.
        sql = f"DELETE FROM {quote(opts.db_table)} WHERE {quote(opts.pk.column)} = %s"  # noqa: S608
        _delete_sql[(model, alias)] = sql
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [pk])
        return cursor.rowcount
