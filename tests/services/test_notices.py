"""The decision notice is the services' own: it names the outcome and, when a document was
issued, carries the signed PDF's link on the message, so the inbox shows it knowing no service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from panjereh.inbox.models import Message
from panjereh.services.models import Document, JourneyEvent, State

from .conftest import citizen, clean_adult, convicted, run_until_settled, submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_issued_documents_notice_links_its_signed_pdf(smart, population, client):
    user = citizen(population, lambda i: clean_adult(population, i))
    application = run_until_settled(submit("no-criminal-record", user, purpose="بانک"))
    assert application.state == State.ISSUED
    document = Document.objects.get(application=application)
    message = Message.objects.get(user=user, application=application)
    link = reverse("services:document_pdf", args=[document.number])
    assert message.kind == Message.Kind.DOCUMENT
    assert message.document_url == link
    assert application.events.filter(kind=JourneyEvent.Kind.NOTIFIED).count() == 1

    client.force_login(user)
    page = client.get(f"/inbox/{message.pk}/").content.decode()
    assert f'id="document-pdf" href="{link}"' in page
    assert client.get(link).status_code == 200


def test_a_rejections_notice_has_no_document_link(smart, population, client):
    user = citizen(population, lambda i: convicted(population, i))
    application = run_until_settled(submit("no-criminal-record", user, purpose="بانک"))
    assert application.state == State.REJECTED
    message = Message.objects.get(user=user, application=application)
    assert message.kind == Message.Kind.DECISION
    assert message.document_url == ""
    client.force_login(user)
    assert 'id="document-pdf"' not in client.get(f"/inbox/{message.pk}/").content.decode()


def test_the_migration_links_the_documents_of_earlier_messages(smart, population):
    """Messages written before the link travelled on the message get it from their document."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("panjereh.inbox.migrations.0004_message_document_url")
    user = citizen(population, lambda i: clean_adult(population, i))
    application = run_until_settled(submit("no-criminal-record", user, purpose="بانک"))
    document = Document.objects.get(application=application)
    Message.objects.filter(user=user).update(document_url="")
    notice = Message.objects.create(
        user=user, kind=Message.Kind.NOTICE, dedupe_key="other", subject_fa="اطلاعیه"
    )

    migration.link_documents(apps, None)

    link = reverse("services:document_pdf", args=[document.number])
    assert Message.objects.get(user=user, application=application).document_url == link
    notice.refresh_from_db()
    assert notice.document_url == ""
