# The inbox knows no service: a message carries the link its sender gives (the application's
# page until now came from a foreign key to services.Application, removed in 0006).

from django.db import migrations, models

LABEL_FA = "دیدن درخواست و مراحل آن"
LABEL_EN = "See the application and its journey"


def _check_now(schema_editor):
    # PostgreSQL checks foreign keys at commit; checked now, the rows leave no pending trigger
    # events, which would refuse this migration's ALTER TABLE (backwards: dropping the links).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def link_applications(apps, schema_editor):
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation

    Message = apps.get_model("inbox", "Message")
    Application = apps.get_model("services", "Application")
    linked = Message.objects.filter(application__isnull=False)
    codes = dict(
        Application.objects.filter(pk__in=linked.values("application_id")).values_list(
            "pk", "tracking_code"
        )
    )
    for pk, code in codes.items():
        with translation.override(settings.LANGUAGE_CODE):  # the inbox gives the reader's
            url = reverse("services:detail", args=[code])
        linked.filter(application_id=pk).update(
            link_url=url,
            link_label_fa=LABEL_FA,
            link_label_en=LABEL_EN,
        )
    _check_now(schema_editor)


def unlink_applications(apps, schema_editor):
    """Backwards: the application again from the link (0006 backwards re-added the field)."""
    from django.conf import settings
    from django.urls import Resolver404, resolve
    from django.utils import translation

    Message = apps.get_model("inbox", "Message")
    Application = apps.get_model("services", "Application")
    for message in Message.objects.exclude(link_url=""):
        try:
            with translation.override(settings.LANGUAGE_CODE):
                match = resolve(message.link_url)
        except Resolver404:
            continue
        if match.view_name == "services:detail":
            application = Application.objects.filter(
                tracking_code=match.kwargs.get("tracking_code")
            ).first()
            if application is not None:
                message.application = application
                message.save(update_fields=["application"])
    _check_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0004_message_document_url"),
        ("services", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="link_url",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="message",
            name="link_label_fa",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name="message",
            name="link_label_en",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.RunPython(link_applications, unlink_applications),
    ]
