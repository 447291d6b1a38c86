"""The settlement is recorded on the payment: the file that settled it (``Payment.settlement``),
instead of an event row per settled payment (docs/payments.md, "The settlement file").

No index and no foreign-key constraint in the database (``db_constraint=False``): settling a
million payments stays a million HOT updates, with no index entry written and no check per row
at commit. ``StagedLine`` is the settlement's temporary table, read through the ORM; it is
not managed (no table is made here). Payments settled before keep their event row.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0005_settle_without_touching_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="StagedLine",
            fields=[
                ("number", models.IntegerField(primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=20)),
                ("token", models.CharField(max_length=100)),
                ("order_id", models.CharField(max_length=40)),
                ("ref", models.CharField(max_length=40)),
                ("amount", models.BigIntegerField(null=True)),
            ],
            options={
                "db_table": "payments_settlement_stage",
                "managed": False,
            },
        ),
        migrations.AddField(
            model_name="payment",
            name="settlement",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="settled_payments",
                to="payments.settlementfile",
            ),
        ),
    ]
