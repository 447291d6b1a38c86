"""``panjereh participation publish|recount|close-expired``: the weekly and periodic jobs.

Run ``publish`` every Saturday just after 00:00 Tehran time (cron or Celery beat); the public
pages also publish last week's list on their first visit, so a missed run loses nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from panjereh.participation import operations, queries, weeks


class Command(BaseCommand):
    help = "Publish the services of the week, recount a week's tally, close expired consultations."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["publish", "recount", "close-expired"])
        parser.add_argument("--week", help="Jalali date of the week's Saturday, e.g. 1405-09-01")
        parser.add_argument("--size", type=int, default=queries.DEFAULT_LIST_SIZE)

    def handle(self, action, week=None, size=queries.DEFAULT_LIST_SIZE, **options):
        try:
            day = weeks.parse_label(week) if week else weeks.last_completed_week()
        except ValueError as exc:
            raise CommandError(f"not the Jalali date of a Saturday: {week}") from exc
        if action == "publish":
            try:
                weekly = operations.publish_week(day, size=size)
            except operations.WrongState as exc:
                raise CommandError(str(exc.message)) from exc
            self.stdout.write(
                f"week {weekly.label}: {weekly.entries.count()} entries, "
                f"{weekly.total_votes} votes, published {weekly.published_at.isoformat()}"
            )
        elif action == "recount":
            self.stdout.write(f"week {weeks.label(day)}: {operations.recount(day)} items counted")
        else:
            self.stdout.write(f"{operations.close_expired()} consultations closed")
