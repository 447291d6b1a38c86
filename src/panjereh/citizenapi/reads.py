"""What the citizen API reads of the other apps, always together with the person.

Every lookup of one object filters by the token's person in the same query, so another
person's object and an object that does not exist are the same answer (``None``: 404). The
documents and what is due come from ``personal.queries`` (the signed-in pages read the same);
the appointments from ``appointments.queries``; the mailbox's opening from
``mailbox.operations`` (the web page's own operation). The other rows are read from their apps'
models, read-only: writes go through the apps' operations (``services.engine.submit``,
``mailbox.operations.open_notice``).
"""

from __future__ import annotations

from django.db.models import QuerySet

from panjereh.appointments import queries as appointment_queries
from panjereh.inbox.models import Message
from panjereh.mailbox import operations as mailbox
from panjereh.mailbox.models import Notice, RecipientKind
from panjereh.personal import queries as personal
from panjereh.services.models import Application, ServiceDefinition

# The prefix of the idempotency keys the API gives ``services.engine.submit``: the web form's
# keys (random hex) and the app's never meet.
KEY_PREFIX = "app:"


def applications(user) -> QuerySet[Application]:
    return (
        Application.objects.filter(user=user)
        .select_related("definition", "agency")
        .order_by("-submitted_at", "-pk")
    )


def application(user, tracking_code: str) -> Application | None:
    return applications(user).filter(tracking_code=tracking_code[:20]).first()


def application_by_key(user, key: str) -> Application | None:
    return (
        Application.objects.filter(user=user, idempotency_key=KEY_PREFIX + key)
        .select_related("definition", "agency")
        .first()
    )


def journey(application: Application) -> list:
    return list(application.events.order_by("at", "pk"))


def services() -> QuerySet[ServiceDefinition]:
    return (
        ServiceDefinition.objects.filter(active=True)
        .select_related("agency", "service")
        .order_by("code")
    )


def service(code: str) -> ServiceDefinition | None:
    return services().filter(code=code[:80]).first()


def messages(user) -> QuerySet[Message]:
    return Message.objects.filter(user=user).order_by("-created_at", "-pk")


def message(user, pk: int) -> Message | None:
    return messages(user).filter(pk=pk).first()


def notices(user) -> QuerySet[Notice]:
    """The person's own notices (addressed to their national code), newest first; those kept
    for them before they signed up are made available first, as the mailbox page does."""
    if not user.national_code:
        return Notice.objects.none()
    mailbox.deliver_held(user)
    rows = Notice.objects.filter(recipient_kind=RecipientKind.PERSON, recipient=user.national_code)
    for due in mailbox.due_for_service(rows)[:200]:
        mailbox.serve_if_due(due)
    return rows.select_related("agency").order_by("-created_at", "-pk")


def notice(user, reference: str) -> tuple[Notice, mailbox.Reader] | None:
    """The notice and its reader (the addressee themself), or None when not theirs."""
    found = Notice.objects.select_related("agency").filter(reference=reference[:24]).first()
    if found is None:
        return None
    who = mailbox.reader(found, user)
    if who is None or not who.is_addressee:
        return None
    return mailbox.serve_if_due(found), who


def appointments(user):
    return appointment_queries.appointments_of(user).order_by("-slot__starts_at", "-pk")


def appointment(user, reference: str):
    return appointments(user).filter(reference=reference[:16]).first()


def documents(user) -> list:
    return personal.documents_of(user)


def document(user, reference: str):
    return personal.document_of(user, reference)


def payments_due(user) -> list:
    return list(personal.needs_action(user).payments_due)
