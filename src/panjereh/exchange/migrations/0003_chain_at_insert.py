"""Log records are chained when they are inserted and sealed by sequence range: records that
were inserted but not yet chained (by the sealer, before this change) are chained here, in
insertion order after the chain's end; then the per-record seal link and the index of
unchained records go."""

from django.db import migrations

from panjereh.exchange.log import chain_link
from panjereh.exchange.models import CANONICAL_FIELDS, GENESIS, canonical_content

CHUNK = 2000


def chain_unchained(apps, schema_editor):
    LogRecord = apps.get_model("exchange", "LogRecord")
    LogHead = apps.get_model("exchange", "LogHead")
    alias = schema_editor.connection.alias
    head, _created = LogHead.objects.using(alias).get_or_create(
        pk=1, defaults={"last_seq": 0, "last_hash": GENESIS}
    )
    seq, previous = head.last_seq, head.last_hash
    while True:
        records = list(
            LogRecord.objects.using(alias).filter(seq__isnull=True).order_by("id")[:CHUNK]
        )
        if not records:
            break
        for record in records:
            seq += 1
            record.seq = seq
            content = canonical_content({name: getattr(record, name) for _k, name in CANONICAL_FIELDS})
            previous = chain_link(previous, content)
            record.hash = previous
        LogRecord.objects.using(alias).bulk_update(records, ["seq", "hash"])
    LogHead.objects.using(alias).filter(pk=1).update(last_seq=seq, last_hash=previous)


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0002_monthly_p99"),
    ]

    operations = [
        migrations.RunPython(chain_unchained, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="logrecord", name="log_unsealed"),
        migrations.RemoveField(model_name="logrecord", name="seal"),
    ]
