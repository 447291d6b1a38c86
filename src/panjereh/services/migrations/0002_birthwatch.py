# BirthWatch moves from the inbox (which knows no service) to the services, the only ones that
# use it: created here, its rows copied; inbox 0006 then deletes the old table. Backwards the
# rows are copied back to the inbox's table (re-created by unapplying inbox 0006 first).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_from_inbox(apps, schema_editor):
    Old = apps.get_model("inbox", "BirthWatch")
    New = apps.get_model("services", "BirthWatch")
    New.objects.bulk_create(
        [New(user_id=row.user_id, polled_at=row.polled_at) for row in Old.objects.iterator()],
        batch_size=1000,
    )


def copy_to_inbox(apps, schema_editor):
    Old = apps.get_model("inbox", "BirthWatch")
    New = apps.get_model("services", "BirthWatch")
    Old.objects.bulk_create(
        [Old(user_id=row.user_id, polled_at=row.polled_at) for row in New.objects.iterator()],
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0001_initial"),
        ("inbox", "0005_message_link"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BirthWatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("polled_at", models.DateTimeField()),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.RunPython(copy_from_inbox, copy_to_inbox),
    ]
