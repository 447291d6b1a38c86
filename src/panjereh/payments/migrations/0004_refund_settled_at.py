from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_bill_confirmation"),
    ]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="settled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
