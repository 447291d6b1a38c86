# The last ties to the services: the message's foreign key (its link is on the message since
# 0005) and BirthWatch, which moved to services (services 0002 copied its rows).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0005_message_link"),
        ("services", "0002_birthwatch"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="message",
            name="application",
        ),
        migrations.DeleteModel(
            name="BirthWatch",
        ),
    ]
