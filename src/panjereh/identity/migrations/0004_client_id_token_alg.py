from django.db import migrations, models

HELP = (
    "ES256 (elliptic curve) is the default: smaller and quicker to sign. RS256 only for a window "
    "whose library cannot verify ES256."
)
CHOICES = [("ES256", "ES256"), ("RS256", "RS256")]


class Migration(migrations.Migration):
    """Windows registered before ES256 existed keep RS256 (their libraries expect it); new ones
    get ES256."""

    dependencies = [
        ("identity", "0003_backchannel_delivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="clientprofile",
            name="id_token_alg",
            field=models.CharField(
                choices=CHOICES,
                default="RS256",
                help_text=HELP,
                max_length=5,
                verbose_name="ID token signature",
            ),
        ),
        migrations.AlterField(
            model_name="clientprofile",
            name="id_token_alg",
            field=models.CharField(
                choices=CHOICES,
                default="ES256",
                help_text=HELP,
                max_length=5,
                verbose_name="ID token signature",
            ),
        ),
    ]
