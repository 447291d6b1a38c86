# The definition versions get a lifecycle (draft → submitted → certified → published → retired)
# and an event table. Rows loaded before it were published by the window from its files: the
# active one of each code becomes published, the others retired (each with its event).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def statuses(apps, schema_editor):
    Definition = apps.get_model("services", "ServiceDefinition")
    Event = apps.get_model("services", "DefinitionEvent")
    events = []
    for row in Definition.objects.all().iterator():
        row.status = "published" if row.active else "retired"
        row.published_at = row.loaded_at
        row.save(update_fields=["status", "published_at"])
        events.append(
            Event(
                definition_id=row.pk,
                at=row.loaded_at,
                by_system=True,
                from_status="",
                to_status=row.status,
                note="loaded from its file before versions had a lifecycle",
            )
        )
    Event.objects.bulk_create(events, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0002_birthwatch"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="servicedefinition",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("submitted", "Submitted for review"),
                    ("certified", "Certified by AEO"),
                    ("published", "Published"),
                    ("retired", "Retired"),
                ],
                db_index=True,
                default="draft",
                max_length=12,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="servicedefinition",
            name="published_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="DefinitionEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                ("by_system", models.BooleanField(default=False)),
                ("from_status", models.CharField(blank=True, max_length=12)),
                ("to_status", models.CharField(max_length=12)),
                ("note", models.CharField(blank=True, max_length=1000)),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "definition",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="services.servicedefinition",
                    ),
                ),
            ],
            options={"ordering": ["at", "pk"]},
        ),
        migrations.RunPython(statuses, migrations.RunPython.noop),
    ]
