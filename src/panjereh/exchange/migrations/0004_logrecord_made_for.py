# The person a read was made for (X-Panjereh-For), listed in their "who read my data" too.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0003_chain_at_insert"),
    ]

    operations = [
        migrations.AddField(
            model_name="logrecord",
            name="made_for",
            field=models.CharField(blank=True, db_default="", default="", max_length=20),
        ),
        migrations.AddIndex(
            model_name="logrecord",
            index=models.Index(
                condition=models.Q(("made_for", ""), _negated=True),
                fields=["made_for", "created_at"],
                name="exchange_log_made_for",
            ),
        ),
    ]
