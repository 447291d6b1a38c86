"""``panjereh oversight <action>``: indicators, obligations and reports from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from panjereh.common import jalali


class Command(BaseCommand):
    help = "Oversight: indicators, obligations and deadlines, quarterly report."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ind = sub.add_parser("indicators", help="Print every indicator as of a Jalali date.")
        ind.add_argument("--as-of", help="Jalali date, e.g. 1404-03-31 (default: now)")
        ind.add_argument("--format", choices=["json", "text"], default="text")
        ind.add_argument("--agency", help="Only this agency's row (its code)")
        perf = sub.add_parser(
            "service-performance", help="Completion, satisfaction, take-up, cost per service."
        )
        perf.add_argument("--as-of", help="Jalali date, e.g. 1404-03-31 (default: now)")
        perf.add_argument("--format", choices=["json", "text"], default="text")
        roll = sub.add_parser(
            "rollup-journeys",
            help="Roll up the journey log of Jalali months (service performance).",
        )
        roll.add_argument(
            "--month", action="append", help="Jalali month, e.g. 1404-03 (repeatable)"
        )
        seed = sub.add_parser("seed-obligations", help="Load obligations; generate due instances.")
        seed.add_argument("--until", help="Generate due instances up to this Jalali date")
        over = sub.add_parser("overdue", help="Overdue obligations per responsible body.")
        over.add_argument("--as-of", help="Jalali date (default: today)")
        over.add_argument("--mark-missed", action="store_true", help="Record them as missed")
        rep = sub.add_parser("quarterly-report", help="Write the quarterly report as a PDF.")
        rep.add_argument("--year", type=int, required=True)
        rep.add_argument("--quarter", type=int, choices=[1, 2, 3, 4], required=True)
        rep.add_argument("--output", required=True)

    def handle(self, *args, **options) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except jalali.InvalidJalaliDate as exc:
            raise CommandError(f"not a Jalali date: {exc}") from exc

    def _indicators(self, options) -> None:
        from panjereh.oversight import indicators

        result = indicators.compute(
            indicators.as_of_from_jalali(options.get("as_of")),
            include_all_agencies=bool(options.get("agency")),
        )
        code = options.get("agency")
        if code and result.agency(code) is None:
            raise CommandError(f"no agency with code {code!r} as of {result.as_of}")
        if options["format"] == "json":
            self.stdout.write(json.dumps(result.as_dict(code), ensure_ascii=False, indent=1))
            return
        out = [f"as of {result.as_of}  catalogue {result.snapshot.catalogue_version['label']}"]
        rows = [("national", result.national)]
        if code:
            rows = [(code, result.agency(code).values)]
        for label, values in rows:
            out.append(f"[{label}]")
            for ind in indicators.registry:
                if ind.code not in values:
                    continue
                v = values[ind.code]
                shown = v.value if v.available else "no data"
                frac = f" ({v.numerator:g}/{v.denominator:g})" if v.denominator else ""
                out.append(f"  {ind.code:<20} {shown}{frac}  {ind.name_en}")
        self.stdout.write("\n".join(out))

    def _service_performance(self, options) -> None:
        from panjereh.oversight import indicators, servperf

        perf = servperf.compute(indicators.as_of_from_jalali(options.get("as_of")))
        if options["format"] == "json":
            self.stdout.write(json.dumps(perf.as_dict(), ensure_ascii=False, indent=1))
            return

        def line(label: str, values: dict) -> str:
            parts = []
            for code, v in values.items():
                shown = v.value if v.available else "no data"
                parts.append(f"{code}={shown}")
            return f"  {label:<24} " + "  ".join(parts)

        out = [f"as of {perf.as_of_label}  month {perf.month}"]
        out.append(line("national", perf.national.values()))
        for row in perf.services:
            out.append(line(f"{row.agency_code}/{row.service_id}", row.values))
        self.stdout.write("\n".join(out))

    def _rollup_journeys(self, options) -> None:
        from django.utils import timezone

        from panjereh.oversight import servperf, sources

        months = options.get("month") or [sources.report_month(timezone.now())]
        for month in months:
            jalali.parse(f"{month}-01")
            self.stdout.write(f"{month}: {servperf.rollup(month)} rows")

    def _seed_obligations(self, options) -> None:
        from panjereh.oversight import obligations

        counts = obligations.seed()
        until = (
            jalali.to_gregorian(options["until"])
            if options.get("until")
            else obligations.jalali_today().togregorian()
        )
        made = obligations.generate_due(until)
        self.stdout.write(
            f"instruments +{counts['instruments']}, triggers +{counts['triggers']}, "
            f"obligations +{counts['obligations']}, due instances +{made} "
            f"(up to {jalali.iso(until)})"
        )

    def _overdue(self, options) -> None:
        from panjereh.oversight import obligations

        on = (
            jalali.to_gregorian(options["as_of"])
            if options.get("as_of")
            else obligations.jalali_today().togregorian()
        )
        if options["mark_missed"]:
            self.stdout.write(f"marked missed: {obligations.mark_missed(on)}")
        for body, items in obligations.overdue_by_body(on).items():
            self.stdout.write(f"{body}: {len(items)}")
            for item in items:
                due = jalali.iso(item.due_on) if item.due_on else "-"
                self.stdout.write(f"  {due}  {item.obligation.key} [{item.period}] {item.status}")

    def _quarterly_report(self, options) -> None:
        from panjereh.oversight import reports

        pdf = reports.quarterly_pdf(options["year"], options["quarter"])
        Path(options["output"]).write_bytes(pdf)
        self.stdout.write(f"wrote {options['output']} ({len(pdf)} bytes)")
