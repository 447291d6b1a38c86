"""Settling a payment (captured → settled) becomes a HOT update on PostgreSQL.

``state`` leaves every index and index predicate of ``payments_payment``: the reconciliation
job's queue is a partial index on ``next_check_at`` (only open payments have one), and the
rule "one live payment per purpose" reads ``ended_at IS NULL``, which the new check constraint
``payment_ended_with_its_state`` ties to the endings (failed, cancelled, expired, reversed).
``fillfactor`` 50 leaves each page the room for every row's next version, so the settlement's
million ``UPDATE``s write no index entry (docs/payments.md, "The settlement file"). The
events' index on ``actor`` keeps only the rows that have one (the settlement's have none).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ENDED = ("failed", "cancelled", "expired", "reversed")


def end_with_state(apps, schema_editor):
    """Rows written before the rule: an ended payment without ``ended_at`` gets the time of its
    last event (else its creation); a live payment never has one."""
    Payment = apps.get_model("payments", "Payment")
    PaymentEvent = apps.get_model("payments", "PaymentEvent")
    db = schema_editor.connection.alias
    for payment in Payment.objects.using(db).filter(state__in=ENDED, ended_at__isnull=True):
        last = (
            PaymentEvent.objects.using(db)
            .filter(payment_id=payment.pk)
            .order_by("-at")
            .values_list("at", flat=True)
            .first()
        )
        Payment.objects.using(db).filter(pk=payment.pk).update(ended_at=last or payment.created_at)
    Payment.objects.using(db).exclude(state__in=ENDED).filter(ended_at__isnull=False).update(
        ended_at=None
    )


def fillfactor(value: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            table = apps.get_model("payments", "Payment")._meta.db_table
            schema_editor.execute(
                f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {int(value)})"
            )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_refund_settled_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(end_with_state, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="payment",
            name="one_live_payment_per_purpose",
        ),
        migrations.RemoveIndex(
            model_name="payment",
            name="payments_pa_state_a203a7_idx",
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(
                condition=models.Q(("next_check_at__isnull", False)),
                fields=["next_check_at"],
                name="payment_check_due",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("ended_at__isnull", True)),
                fields=("purpose_kind", "purpose_id"),
                name="one_live_payment_per_purpose",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("ended_at__isnull", False),
                        ("state__in", ENDED),
                    ),
                    models.Q(
                        models.Q(("state__in", ENDED), _negated=True),
                        ("ended_at__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="payment_ended_with_its_state",
            ),
        ),
        # The settlement's event rows have no actor: its index holds only rows that have one.
        migrations.AlterField(
            model_name="paymentevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="paymentevent",
            index=models.Index(
                condition=models.Q(("actor__isnull", False)),
                fields=["actor"],
                name="payment_event_actor",
            ),
        ),
        migrations.RunPython(fillfactor(50), fillfactor(100)),
    ]
