"""The engine against real registry processes over HTTP, through the exchange gateway."""

from __future__ import annotations

import pytest

from panjereh.catalogue import roles
from panjereh.exchange.models import LogRecord
from panjereh.inbox.models import Message
from panjereh.services import documents, engine
from panjereh.services.models import Document, FetchedData, JourneyEvent, State
from panjereh.services.notices import link
from tests.factories import make_agency_staff

from .conftest import (
    citizen,
    clean_adult,
    convicted,
    run_until_settled,
    student,
    submit,
    veteran,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_criminal_record_is_issued_through_the_exchange(smart, population):
    user = citizen(population, lambda i: clean_adult(population, i))
    application = submit("no-criminal-record", user, purpose="سازمان استخدامی")
    application = run_until_settled(application)

    assert application.state == State.ISSUED
    document = Document.objects.get(application=application)
    claims = documents.claims_of(document)
    assert claims["sub"] == user.national_code
    assert "سازمان استخدامی" in claims["text_fa"]
    assert documents.verify(document.token).status == "valid"
    kinds = list(application.events.values_list("kind", flat=True))
    assert kinds.count(JourneyEvent.Kind.DATA_RECEIVED) == 2
    assert JourneyEvent.Kind.ISSUED in kinds and JourneyEvent.Kind.NOTIFIED in kinds
    # Every item came through the gateway, logged with the tracking code as the issue.
    logged = LogRecord.objects.filter(issue=application.tracking_code)
    assert logged.count() == 2
    assert set(logged.values_list("subject", flat=True)) == {user.national_code}
    assert Message.objects.filter(user=user, link_url=link(application)["link_url"]).count() == 1


def test_a_conviction_is_a_rejection_with_the_reason(smart, population):
    user = citizen(population, lambda i: convicted(population, i))
    application = run_until_settled(submit("no-criminal-record", user, purpose="بانک"))
    assert application.state == State.REJECTED
    assert [r["code"] for r in application.decision_reasons] == ["has_record"]
    assert not Document.objects.filter(application=application).exists()
    message = Message.objects.get(user=user, link_url=link(application)["link_url"])
    assert "محکومیت" in message.body_fa


@pytest.mark.parametrize(
    ("code", "fits"),
    [("student-status", student), ("veteran-status", veteran)],
)
def test_student_and_veteran_certificates(smart, population, code, fits):
    user = citizen(population, lambda i: fits(population, i))
    application = run_until_settled(submit(code, user))
    assert application.state == State.ISSUED
    assert Document.objects.filter(application=application).count() == 1


def test_incomplete_record_goes_to_an_officer_with_the_reason(smart, registries, population):
    user = citizen(population, lambda i: clean_adult(population, i))
    registries.control("judiciary", mode="incomplete")
    application = run_until_settled(submit("no-criminal-record", user, purpose="x"))
    # The blanked half of the record depends on the record; the judiciary record has two
    # non-key fields, so try people until one loses a required field.
    tries = 0
    while application.state != State.HUMAN_REVIEW and tries < 20:
        tries += 1
        user = citizen(population, lambda i: clean_adult(population, i), start=user.index + 1)
        application = run_until_settled(submit("no-criminal-record", user, purpose="x"))
    assert application.state == State.HUMAN_REVIEW
    assert "incomplete record" in application.review_reason
    assert "قوه قضاییه" in application.review_reason
    assert application.decision == ""  # never decided on incomplete data
    assert not Document.objects.filter(application=application).exists()


def test_registry_down_waits_then_completes(smart, registries, population, client):
    user = citizen(population, lambda i: clean_adult(population, i))
    registries.control("judiciary", mode="fail", status=503)
    application = submit("no-criminal-record", user, purpose="x")
    from panjereh.services import engine

    engine.advance(application.pk)
    application.refresh_from_db()
    assert application.state == State.WAITING
    assert application.waiting_for == "judiciary"
    assert application.next_attempt_at is not None
    client.force_login(user)
    page = client.get(f"/services/a/{application.tracking_code}/").content.decode()
    assert "در انتظار پاسخ قوه قضاییه" in page  # the citizen sees whom it waits for
    # The civil record arrived and is kept; only the judiciary is asked again.
    assert list(
        FetchedData.objects.filter(application=application).values_list("name", flat=True)
    ) == ["identity"]
    registries.control("judiciary", mode="normal")
    application = run_until_settled(application)
    assert application.state == State.ISSUED
    assert application.attempts >= 1
    assert FetchedData.objects.filter(application=application).count() == 2


def test_backoff_grows_exponentially(settings):
    from panjereh.services.engine import backoff

    settings.PANJEREH_SERVICES_RETRY_BASE_SECONDS = 2
    settings.PANJEREH_SERVICES_RETRY_MAX_SECONDS = 60
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 10)] == [2, 4, 8, 16, 60]


def test_under_celery_the_same_task_runs_at_commit(smart, population, settings):
    """Production mode: the application is queued to Celery at commit (eager here, so the
    task runs in this process) and the very same task function completes it."""
    from panjereh.conf.celery import app

    user = citizen(population, lambda i: veteran(population, i))
    settings.PANJEREH_TASKS = "celery"
    app.conf.task_always_eager = True
    try:
        application = submit("veteran-status", user)
    finally:
        app.conf.task_always_eager = False
    application.refresh_from_db()
    assert application.state == State.ISSUED
    assert "services.process_application" in app.tasks


def test_a_refused_inquiry_goes_to_an_officer_with_the_incident(smart, population):
    """A revoked grant will be refused again on every retry: a few tries, then an officer,
    with the reason in words (the exchange's code is for the agency's staff), and the agency
    is told."""
    from panjereh.exchange import grants
    from panjereh.exchange.models import Grant
    from panjereh.services import definitions, engine

    staff = make_agency_staff(definitions.active("no-criminal-record").agency)
    user = citizen(population, lambda i: clean_adult(population, i))
    for grant in Grant.objects.filter(service__code="criminal-record"):
        grants.revoke(grant, note="test", actor=roles.SYSTEM)
    application = run_until_settled(submit("no-criminal-record", user, purpose="x"))
    assert application.state == State.HUMAN_REVIEW
    assert "the grant for this data was revoked" in application.review_reason
    assert "grant_revoked" not in application.review_reason  # no raw code before a person
    assert "NIX-" in application.review_reason  # the incident id the officer can quote
    assert application.attempts == engine.refused_attempts()  # bounded: tried, not forever
    told = Message.objects.get(user=staff, dedupe_key=f"stopped:{application.tracking_code}")
    assert "grant_revoked" in told.body_en and application.tracking_code in told.subject_en


def _broken(code: str, version: int, change) -> str:
    """A new version of a definition with a fault no retry fixes; its code."""
    from panjereh.services import definitions

    spec = definitions.read_file(definitions.DEFINITIONS_DIR / f"{code}.json")
    spec["version"] = version
    change(spec)
    definitions.load_spec(spec)
    return code


def _stops_with_an_officer_and_the_agency_told(application, staff, words: str):
    from panjereh.services import engine

    application = run_until_settled(application)
    assert application.state == State.HUMAN_REVIEW, application.state
    assert words in application.review_reason
    assert application.attempts == engine.refused_attempts()
    told = Message.objects.get(user=staff, dedupe_key=f"stopped:{application.tracking_code}")
    assert application.tracking_code in told.subject_en
    return told


def test_a_definition_naming_a_service_the_exchange_lacks_stops_after_a_few_tries(
    smart, population
):
    from panjereh.services import definitions

    def change(spec):
        spec["data"][1]["service"] = "veteran-status-archive"

    code = _broken("veteran-status", 90, change)
    staff = make_agency_staff(definitions.active(code).agency)
    user = citizen(population, lambda i: veteran(population, i))
    told = _stops_with_an_officer_and_the_agency_told(
        submit(code, user), staff, "not on the exchange"
    )
    assert "unknown_service" in told.body_en


def test_a_definition_the_engine_cannot_follow_stops_after_a_few_tries(smart, population):
    """A document field without its label (which the loader let through) fails at every
    issuing: bounded, then an officer, not a retry loop forever."""
    from panjereh.services import definitions

    def change(spec):
        spec["document"]["fields"][0].pop("label_fa")

    code = _broken("veteran-status", 91, change)
    staff = make_agency_staff(definitions.active(code).agency)
    user = citizen(population, lambda i: veteran(population, i))
    told = _stops_with_an_officer_and_the_agency_told(
        submit(code, user), staff, "error in the service definition"
    )
    assert "KeyError" in told.body_en


def test_a_registry_down_for_too_long_goes_to_an_officer(smart, registries, population, settings):
    settings.PANJEREH_SERVICES_MAX_ATTEMPTS = 2
    settings.PANJEREH_SERVICES_RETRY_BASE_SECONDS = 0
    user = citizen(population, lambda i: clean_adult(population, i))
    registries.control("judiciary", mode="fail", status=503)
    application = run_until_settled(submit("no-criminal-record", user, purpose="x"))
    assert application.state == State.HUMAN_REVIEW
    assert "did not answer after 2 attempts" in application.review_reason


def test_every_registry_is_named_in_the_journey_never_by_its_code():
    from panjereh.registries import REGISTRIES

    for registry in (*REGISTRIES, "exchange"):
        fa, en = engine.registry_name(registry)
        assert fa != registry and en != registry, registry
