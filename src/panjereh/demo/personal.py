"""The demo's sample citizens hold a document from the start, so "My documents" (``/my/``) and
sharing can be tried at once: a no-criminal-record certificate, issued through the services
engine's own decide-and-issue steps from the records the simulated registries answer for that
person (``Population.civil_identity``, ``criminal_record``: what the exchange would return).
The account is the one registration refreshes later (matched by national code). Demo only."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

SERVICE = "no-criminal-record"


def seed_documents(profile: str, citizens: list[dict], write=print) -> int:
    """A certificate for each sample citizen without a criminal record who holds none yet;
    how many were issued. Running it again issues nothing new."""
    from panjereh.identity.models import User
    from panjereh.registries import PROFILES
    from panjereh.registries.population import Population
    from panjereh.services import definitions, engine, workflow
    from panjereh.services.models import Application, FetchedData, ServiceDefinition, State

    try:
        definition = definitions.active(SERVICE)
    except ServiceDefinition.DoesNotExist:
        return 0
    population = Population(size=PROFILES[profile])
    issued = 0
    for citizen in citizens:
        i = citizen["index"]
        criminal = population.criminal_record(i)
        if criminal.get("has_record"):
            continue
        identity = population.civil_identity(i)
        user = User.objects.filter(national_code=citizen["national_code"]).first()
        if user is None:
            user = User(
                username=f"c-{uuid.uuid4().hex[:20]}",
                national_code=citizen["national_code"],
                first_name=identity["first_name"],
                last_name=identity["last_name"],
                mobile=citizen.get("mobile", ""),
            )
            user.set_unusable_password()
            user.save()
        key = f"demo-documents:{user.national_code}"
        if Application.objects.filter(user=user, idempotency_key=key).exists():
            continue
        now = timezone.now()
        application = Application.objects.create(
            tracking_code=engine.new_tracking_code(),
            definition=definition,
            agency=definition.agency,
            user=user,
            subject_code=user.national_code,
            idempotency_key=key,
            inputs={"purpose": "نمایش پنجره من"},
            state=State.SUBMITTED,
            submitted_at=now,
            due_at=now + dt.timedelta(minutes=definition.target_minutes),
        )
        FetchedData.objects.create(application=application, name="identity", record=identity)
        FetchedData.objects.create(application=application, name="criminal", record=criminal)
        workflow.transition(application, State.FETCHING)
        workflow.transition(application, State.DECIDING)
        engine.advance(application.pk)
        application.refresh_from_db()
        if application.state == State.ISSUED:
            issued += 1
    if issued:
        write(f"My documents: {issued} sample citizen(s) hold a no-criminal-record certificate.")
    return issued
