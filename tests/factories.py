"""Factories for tests. Cards are written through the catalogue's operations, as in production,
so every factory-made card has its version row and search key."""

from __future__ import annotations

import itertools

import factory

from panjereh.catalogue import operations
from panjereh.catalogue.models import Agency, AgencyMembership, Service
from panjereh.catalogue.rules import make_service_id
from panjereh.identity.models import User

_sid = itertools.count(1)


def next_service_id() -> str:
    return make_service_id(f"{next(_sid):09d}")


def make_agency(**fields) -> Agency:
    n = next(_sid)
    data = {
        "code": f"agency-{n}",
        "name_fa": f"سازمان آزمایشی {n}",
        "name_en": f"Test Organisation {n}",
        "kind": "organisation",
        "connection_status": "connected",
        "connection_form": "direct",
        "member_code": f"1{n:07d}",
    }
    data.update(fields)
    parent = data.pop("parent", None)
    agency = Agency(parent=parent)
    return operations.save_agency(agency, data, author=operations.SYSTEM)


def make_service(agency: Agency | None = None, **fields) -> Service:
    data = {
        "service_id": next_service_id(),
        "title_fa": "خدمت آزمایشی",
        "title_en": "Test service",
        "recipients": ["G2C"],
        "category": "other",
        "channels": ["web"],
        "scope": "connectable",
        "connected": True,
        "connection_form": "direct",
        "min_assurance_level": 2,
    }
    data.update(fields)
    parent = data.pop("parent", None)
    service = Service(agency=agency or make_agency(), parent=parent)
    return operations.save_service(service, data, author=operations.SYSTEM)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")
    is_staff = True

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        # set_password runs after creation; save its hash (factory-boy no longer does).
        if create and results:
            instance.save()


def make_agency_staff(agency: Agency, role: str = "admin", **fields) -> User:
    user = UserFactory(**fields)
    user.save()
    AgencyMembership.objects.create(user=user, agency=agency, role=role)
    return user


def sign_in(client, user):
    """``client`` signed in as ``user`` without the sign-in pages (tested in tests/identity):
    Django's force_login and, for a person at level 3 or above, the session's proof that one
    of their passkeys was used in it (a service of level 3 asks for that, not only for the
    account's level). The passkey row is a stand-in for one added in the browser."""
    import secrets

    from panjereh.identity import passkeys
    from panjereh.identity.models import Passkey

    client.force_login(user)
    if (user.assurance_level or 0) >= 3 and user.national_code:
        key = Passkey.objects.filter(user=user, revoked_at__isnull=True, user_verified=True).first()
        if key is None:
            key = Passkey.objects.create(
                user=user,
                credential_id=secrets.token_urlsafe(32),
                public_key=b"test",
                name="test passkey",
                user_verified=True,
            )
        session = client.session
        session[passkeys.PROVED_KEY] = {"user": user.pk, "passkey": key.pk}
        session.save()
    return client


def issue_certificate(user, key: str | None = None):
    """A no-criminal-record certificate issued to ``user`` by the services engine's own issuing
    step, with the data the registries would have returned (the engine's path through real
    registry processes is tested in tests/services/test_engine.py). Returns the Document."""
    import uuid

    from panjereh.services import definitions, engine, workflow
    from panjereh.services.models import Document, FetchedData, State

    definitions.load()
    application, _ = engine.submit(
        definitions.active("no-criminal-record"),
        user,
        idempotency_key=key or uuid.uuid4().hex,
        inputs={"purpose": "بانک ملی"},
    )
    FetchedData.objects.create(
        application=application,
        name="identity",
        record={
            "first_name": user.first_name or "مریم",
            "last_name": user.last_name or "کریمی",
            "father_name": "علی",
            "birth_date": "1990-01-02",
            "birth_date_jalali": "1368-10-12",
            "alive": True,
        },
    )
    FetchedData.objects.create(
        application=application, name="criminal", record={"has_record": False, "convictions": []}
    )
    workflow.transition(application, State.FETCHING)
    workflow.transition(application, State.DECIDING)
    engine.advance(application.pk)
    application.refresh_from_db()
    assert application.state == State.ISSUED, application.state
    return Document.objects.get(application=application)
