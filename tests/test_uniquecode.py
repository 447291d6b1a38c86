"""One retry helper for rows stored under a random code that must be unique: a taken code is
drawn again, a row another request stored first is returned, the attempts are bounded, and a
failed attempt leaves the caller's transaction usable (each attempt is a savepoint)."""

from __future__ import annotations

import itertools

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from panjereh.common import uniquecode
from panjereh.common.uniquecode import CodeNotStored, insert_with_unique_code
from panjereh.identity.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _codes(*codes: str):
    drawn = iter(codes)
    return lambda: next(drawn)


def _user(username: str) -> User:
    return User.objects.create(username=username)


def test_a_taken_code_is_drawn_again_and_the_outer_transaction_goes_on():
    UserFactory(username="taken-1")
    UserFactory(username="taken-2")
    with transaction.atomic():  # the caller's own transaction
        user = insert_with_unique_code(_codes("taken-1", "taken-2", "free"), _user)
        # On PostgreSQL a failed statement outside a savepoint would refuse this query.
        assert User.objects.filter(username__startswith="taken-").count() == 2
    assert user.username == "free"
    assert User.objects.filter(username="free").count() == 1


def test_after_the_last_attempt_a_clear_error_and_nothing_stored():
    UserFactory(username="taken")
    with transaction.atomic():
        with pytest.raises(CodeNotStored, match="3 attempts") as raised:
            insert_with_unique_code(itertools.repeat("taken").__next__, _user, attempts=3)
        assert isinstance(raised.value.__cause__, IntegrityError)
        assert User.objects.count() == 1  # the outer transaction is still usable


def test_on_conflict_returns_the_row_another_request_stored_first():
    first = UserFactory(national_code="0012345679")
    drawn = []

    def make_code() -> str:
        drawn.append(1)
        return f"new-{len(drawn)}"

    def insert(code: str) -> tuple[User, bool]:
        return User.objects.create(username=code, national_code="0012345679"), True

    def existing(_exc: IntegrityError) -> tuple[User, bool] | None:
        found = User.objects.filter(national_code="0012345679").first()
        return None if found is None else (found, False)

    user, created = insert_with_unique_code(make_code, insert, on_conflict=existing)
    assert (user.pk, created) == (first.pk, False)
    assert len(drawn) == 1  # resolved: no second code drawn


def test_on_conflict_returning_none_draws_again():
    UserFactory(username="taken")
    user = insert_with_unique_code(_codes("taken", "free"), _user, on_conflict=lambda _exc: None)
    assert user.username == "free"


def test_sqlite_busy_is_waited_out_within_the_attempts(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    pauses: list[float] = []
    tries = []

    def insert(code: str) -> str:
        tries.append(code)
        if len(tries) < 3:
            raise OperationalError("database is locked")
        return code

    assert insert_with_unique_code(_codes("a", "b", "c"), insert, sleep=pauses.append) == "c"
    assert pauses == [uniquecode.BUSY_PAUSE, uniquecode.BUSY_PAUSE * 2]
    with pytest.raises(CodeNotStored):
        insert_with_unique_code(
            itertools.repeat("x").__next__,
            lambda _code: (_ for _ in ()).throw(OperationalError("database is locked")),
            attempts=2,
            sleep=pauses.append,
        )


def test_other_operational_errors_are_not_retried(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "postgresql")
    tries = []

    def insert(code: str) -> str:
        tries.append(code)
        raise OperationalError("database is locked")

    with pytest.raises(OperationalError):
        insert_with_unique_code(_codes("a", "b"), insert, sleep=lambda _s: None)
    assert tries == ["a"]


# -- the engine and the documents use it ---------------------------------------------------------


@pytest.fixture
def loaded():
    from panjereh.services import definitions

    definitions.load()


def _citizen() -> User:
    return UserFactory(national_code="0012345679", is_staff=False, assurance_level=3)


def test_the_engine_draws_another_tracking_code_when_one_is_taken(loaded, monkeypatch):
    from panjereh.services import definitions, engine

    user = _citizen()
    definition = definitions.active("student-status")
    first, _ = engine.submit(definition, user, idempotency_key="k1")
    codes = iter([first.tracking_code, "991231-00000001"])
    monkeypatch.setattr(engine, "new_tracking_code", lambda: next(codes))
    second, created = engine.submit(definition, user, idempotency_key="k2")
    assert created and second.tracking_code == "991231-00000001"


def test_the_engine_returns_the_application_a_racing_request_stored(loaded, monkeypatch):
    from panjereh.services import definitions, engine
    from panjereh.services.models import Application

    user = _citizen()
    definition = definitions.active("student-status")
    real = engine.new_tracking_code
    raced = []

    def code_while_another_request_stores_the_same_key() -> str:
        if not raced:  # after submit() looked for the key, before its insert
            raced.append(
                Application.objects.create(
                    tracking_code="991231-00000002",
                    definition=definition,
                    agency=definition.agency,
                    user=user,
                    subject_code=user.national_code,
                    idempotency_key="same",
                    due_at=timezone.now(),
                )
            )
        return real()

    monkeypatch.setattr(engine, "new_tracking_code", code_while_another_request_stores_the_same_key)
    application, created = engine.submit(definition, user, idempotency_key="same")
    assert (application.pk, created) == (raced[0].pk, False)
    assert Application.objects.filter(user=user).count() == 1


def test_a_submission_that_finds_no_free_code_says_so(loaded, monkeypatch):
    from panjereh.services import definitions, engine

    user = _citizen()
    definition = definitions.active("student-status")
    first, _ = engine.submit(definition, user, idempotency_key="k1")
    monkeypatch.setattr(engine, "new_tracking_code", lambda: first.tracking_code)
    with pytest.raises(engine.SubmissionError, match="could not be stored"):
        engine.submit(definition, user, idempotency_key="k2")
