"""``panjereh exchange seal | verify-log | check-anchor | rollup | expire-grants``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from panjereh.exchange import anchor, grants, log, stats


class Command(BaseCommand):
    help = "Operate the national information exchange: seal and verify its log, roll up statistics."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        seal = sub.add_parser("seal", help="Chain and seal every unsealed log record.")
        seal.add_argument("--batch", type=int, default=None)
        sub.add_parser(
            "verify-log",
            help="Check the chain and the seals; name the first record changed, removed or moved.",
        )
        sub.add_parser(
            "check-anchor",
            help="Compare only the newest seal with its copy in the anchor file outside the "
            "database (fast: no walk of the chain).",
        )
        rollup = sub.add_parser("rollup", help="Recompute monthly statistics.")
        rollup.add_argument("--month", action="append", help="Jalali month, e.g. 1404-03")
        sub.add_parser("expire-grants", help="Expire grants whose validity has ended.")

    def handle(self, *args, action, **options):
        if action == "seal":
            count = log.seal_pending(batch_size=options.get("batch"))
            self.stdout.write(f"sealed {count} records")
        elif action == "verify-log":
            result = log.verify()
            summary = f"{result.checked} records, {result.seals} seals, {result.unsealed} unsealed"
            for warning in result.warnings:
                self.stderr.write(self.style.WARNING(f"warning: {warning}"))
            if result.ok:
                self.stdout.write(self.style.SUCCESS(f"log verified: {summary}"))
                if result.anchor:
                    self.stdout.write(_anchored(result.anchor))
                return
            self.stderr.write(self.style.ERROR(f"log NOT verified: {result.problem}"))
            self.stderr.write(f"checked before the problem: {summary}")
            raise CommandError(str(result.problem), returncode=2)
        elif action == "check-anchor":
            checked = anchor.check()
            for warning in checked.warnings:
                self.stderr.write(self.style.WARNING(f"warning: {warning}"))
            if not checked.ok:
                self.stderr.write(self.style.ERROR(f"log NOT verified: {checked.problem}"))
                raise CommandError(str(checked.problem), returncode=2)
            if checked.entry:
                self.stdout.write(self.style.SUCCESS(_anchored(checked.entry)))
        elif action == "rollup":
            months = options.get("month")
            if months:
                for month in months:
                    stats.rollup(month)
            else:
                months = stats.rollup_recent()
            self.stdout.write(f"rolled up {', '.join(months)}")
        elif action == "expire-grants":
            self.stdout.write(f"expired {grants.expire_due()} grants")


def _anchored(entry: dict) -> str:
    return (
        f"anchor matches: seal {entry['first_seq']}–{entry['last_seq']} "
        f"(anchored {entry.get('anchored_at')})"
    )
