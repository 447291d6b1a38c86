"""The decision notice is the services' own: it names the outcome and, when a document was
issued, carries the signed PDF's link on the message, so the inbox shows it knowing no service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from panjereh.inbox.models import Message
from panjereh.services import notices
from panjereh.services.models import Document, JourneyEvent, State

from .conftest import citizen, clean_adult, convicted, run_until_settled, submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_issued_documents_notice_links_its_signed_pdf(smart, population, client):
    user = citizen(population, lambda i: clean_adult(population, i))
    application = run_until_settled(submit("no-criminal-record", user, purpose="بانک"))
    assert application.state == State.ISSUED
    document = Document.objects.get(application=application)
    message = Message.objects.get(user=user, link_url=notices.link(application)["link_url"])
    link = reverse("services:document_pdf", args=[document.number])
    assert message.kind == Message.Kind.DOCUMENT
    assert message.document_url == link
    assert application.events.filter(kind=JourneyEvent.Kind.NOTIFIED).count() == 1

    client.force_login(user)
    page = client.get(f"/inbox/{message.pk}/").content.decode()
    assert f'id="document-pdf" href="{link}"' in page
    # The application's link, in the reader's language.
    code = application.tracking_code
    assert f'id="message-link" href="/services/a/{code}/">دیدن درخواست و مراحل آن' in page
    english = client.get(f"/en/inbox/{message.pk}/").content.decode()
    assert f'id="message-link" href="/en/services/a/{code}/">See the application' in english
    assert client.get(link).status_code == 200


def test_a_rejections_notice_has_no_document_link(smart, population, client):
    user = citizen(population, lambda i: convicted(population, i))
    application = run_until_settled(submit("no-criminal-record", user, purpose="بانک"))
    assert application.state == State.REJECTED
    message = Message.objects.get(user=user, link_url=notices.link(application)["link_url"])
    assert message.kind == Message.Kind.DECISION
    assert message.document_url == ""
    client.force_login(user)
    assert 'id="document-pdf"' not in client.get(f"/inbox/{message.pk}/").content.decode()


def test_the_migrations_move_the_links_onto_earlier_messages_and_back(smart, population):
    """Messages written while the inbox pointed at services.Application get the document's and
    the application's links (inbox 0004, 0005), the polls move to services.BirthWatch
    (services 0002), and unapplying puts the foreign key and the polls back."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from panjereh.services.models import BirthWatch

    user = citizen(population, lambda i: clean_adult(population, i))
    application = run_until_settled(submit("no-criminal-record", user, purpose="بانک"))
    document = Document.objects.get(application=application)
    detail = notices.link(application)["link_url"]
    polled = BirthWatch.objects.create(user=user, polled_at=application.submitted_at).polled_at
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    before = [("inbox", "0003_delivery_next_attempt_at")]
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        assert old.get_model("inbox", "BirthWatch").objects.get(user_id=user.pk).polled_at == polled
        OldMessage = old.get_model("inbox", "Message")
        decision = OldMessage.objects.get(dedupe_key=f"decision:{application.tracking_code}")
        assert decision.application_id == application.pk
        OldMessage.objects.filter(user_id=user.pk).delete()
        OldMessage.objects.create(
            user_id=user.pk,
            kind="document",
            dedupe_key="old",
            subject_fa="سند",
            application_id=application.pk,
        )
        OldMessage.objects.create(user_id=user.pk, kind="notice", dedupe_key="n", subject_fa="x")

        MigrationExecutor(connection).migrate(leaves)
    finally:
        MigrationExecutor(connection).migrate(leaves)

    old_message = Message.objects.get(user=user, dedupe_key="old")
    assert old_message.document_url == reverse("services:document_pdf", args=[document.number])
    assert old_message.link_url == detail
    assert old_message.link_label_en == "See the application and its journey"
    notice = Message.objects.get(user=user, dedupe_key="n")
    assert notice.link_url == notice.document_url == ""
    assert BirthWatch.objects.get(user=user).polled_at == polled
