"""Indexes for oversight's observed smartness (``services.queries.observed_smartness``) over a
large journey log: the applications of a month by submission and by completion, and a small
partial index of the journey events that mark a human step (sent to an officer, or assigned
to one), so the per-application semi-join reads only those rows.

Raw SQL on purpose (the models do not declare them; the state is unchanged): a partial index
the query's predicate implies, valid on PostgreSQL and SQLite alike. Benchmark:
``benchmarks/oversight/observed.py``.
"""

from django.db import migrations

HUMAN = "(to_state = 'human_review' OR kind = 'assigned')"

SQL = [
    "CREATE INDEX IF NOT EXISTS services_app_submitted_at ON services_application (submitted_at)",
    "CREATE INDEX IF NOT EXISTS services_app_completed_at "
    "ON services_application (completed_at) WHERE completed_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS services_journey_human "
    f"ON services_journeyevent (application_id, at) WHERE {HUMAN}",
]
REVERSE = [
    "DROP INDEX IF EXISTS services_app_submitted_at",
    "DROP INDEX IF EXISTS services_app_completed_at",
    "DROP INDEX IF EXISTS services_journey_human",
]


class Migration(migrations.Migration):
    dependencies = [("services", "0003_definition_lifecycle")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
