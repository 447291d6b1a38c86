"""``panjereh catalogue stats|export|import|lint``: the catalogue from the command line."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from panjereh.catalogue import lint, queries, transfer
from panjereh.common import jalali


class Command(BaseCommand):
    help = "Catalogue figures, export, import and rule checks."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        stats = sub.add_parser("stats", help="Headline figures computed from the rows.")
        stats.add_argument("--format", choices=["json", "text"], default="text")
        stats.add_argument("--as-of", help="Jalali date, e.g. 1402-06-31")

        export = sub.add_parser("export", help="Write agencies or services as CSV or JSON.")
        export.add_argument("--what", choices=transfer.KINDS, required=True)
        export.add_argument("--format", choices=transfer.FORMATS, default="csv")
        export.add_argument("--output", help="File to write (default: standard output)")

        imp = sub.add_parser("import", help="Check every row, then load all of them or none.")
        imp.add_argument("--what", choices=transfer.KINDS, required=True)
        imp.add_argument("--format", choices=transfer.FORMATS)
        imp.add_argument("--dry-run", action="store_true", help="Check and report; keep nothing.")
        imp.add_argument("path")

        check = sub.add_parser("lint", help="Every rule violation, per agency.")
        check.add_argument("--agency", help="Only this agency's code")
        check.add_argument("--format", choices=["json", "text"], default="text")
        check.add_argument(
            "--once-only",
            action="store_true",
            help="List every registry-held document or datum a card asks for (Art. 107(h)), "
            "not only the counts per agency.",
        )
        check.add_argument(
            "--strict",
            action="store_true",
            help="Also fail when a card offered online asks, unjustified, for what a base "
            "registry holds.",
        )

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    # -- stats --------------------------------------------------------------------------------

    def _stats(self, format: str, as_of: str | None, **options) -> None:
        if as_of:
            try:
                moment = jalali.end_of_day(as_of)
            except jalali.InvalidJalaliDate as exc:
                raise CommandError(
                    _("Not a Jalali date such as 1404-03-31: %(value)s") % {"value": as_of}
                ) from exc
            result = queries.stats(moment, jalali.iso(jalali.parse(as_of))).as_dict()
        else:
            result = queries.stats().as_dict()
        if format == "json":
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        self.stdout.write(_("As of: %(day)s") % {"day": result["as_of"] or _("now")})
        for section in (
            "agencies",
            "services",
            "connection_buckets",
            "smart_buckets",
            "other_connected_entities",
        ):
            self.stdout.write(f"\n[{section}]")
            for name, value in result[section].items():
                self.stdout.write(f"  {name:48} {'—' if value is None else value}")

    # -- export -------------------------------------------------------------------------------

    def _export(self, what: str, format: str, output: str | None, **options) -> None:
        text = transfer.export(what, format)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(_("Wrote %(path)s") % {"path": output})
        else:
            self.stdout.write(text, ending="")

    # -- import -------------------------------------------------------------------------------

    def _import(self, what: str, format: str | None, dry_run: bool, path: str, **options) -> None:
        fmt = format or ("json" if path.lower().endswith(".json") else "csv")
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from exc
        try:
            report = transfer.import_text(text, what, fmt, dry_run=dry_run)
        except transfer.ImportFailed as failed:
            for error in failed.report.errors:
                self.stderr.write(str(error))
            raise CommandError(
                _("Nothing was imported: %(count)s errors in %(rows)s rows.")
                % {"count": len(failed.report.errors), "rows": failed.report.rows}
            ) from None
        summary = _(
            "%(rows)s rows: %(created)s created, %(updated)s updated, %(unchanged)s unchanged."
        ) % {
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        }
        if dry_run:
            summary += " " + _("Dry run: nothing was kept.")
        self.stdout.write(self.style.SUCCESS(summary))

    # -- lint ---------------------------------------------------------------------------------

    def _lint(
        self, agency: str | None, format: str, once_only: bool = False, strict: bool = False,
        **options,
    ) -> None:  # fmt: skip
        findings = lint.lint(agency)
        registry_held = lint.once_only(agency)
        grouped = defaultdict(list)
        for finding in findings:
            grouped[finding.agency].append(finding)
        if format == "json":
            payload = {
                "total": len(findings),
                "agencies": [
                    {"agency": code, "findings": [f.as_dict() for f in items]}
                    for code, items in grouped.items()
                ],
                "once_only": {
                    "per_agency": registry_held.per_agency,
                    **(
                        {"findings": [x.as_dict() for x in registry_held.lines]}
                        if once_only
                        else {}
                    ),
                },
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
        else:
            for code, items in grouped.items():
                self.stdout.write(f"{code}: {len(items)}")
                for f in items:
                    self.stdout.write(
                        f"  [{f.service_id or '—'}] {f.field}: {f.message} ({f.code})"
                    )
            self._once_only_text(registry_held, once_only)
        failed = bool(findings) or (strict and registry_held.unjustified_published)
        if failed:
            count = len(findings) + (registry_held.unjustified_published if strict else 0)
            raise CommandError(_("%(count)s problems found.") % {"count": count}, returncode=1)
        if format == "text":
            self.stdout.write(self.style.SUCCESS(_("No problems found.")))

    def _once_only_text(self, report, every: bool) -> None:
        if not report.per_agency:
            return
        self.stdout.write(
            _(
                "Asked for although a base registry holds it (Art. 107(h)): %(findings)s on "
                "%(cards)s cards; %(unjustified)s unjustified, %(published)s of them on cards "
                "offered online."
            )
            % {
                "findings": len(report.lines),
                "cards": sum(c["cards"] for c in report.per_agency.values()),
                "unjustified": sum(c["unjustified"] for c in report.per_agency.values()),
                "published": report.unjustified_published,
            }
        )
        by_agency = defaultdict(list)
        for line in report.lines:
            by_agency[line.agency].append(line)
        for code, counts in report.per_agency.items():
            self.stdout.write(
                f"{code}: {counts['findings']} / {counts['unjustified']} "
                f"({counts['unjustified_published']})"
            )
            if every:
                for line in by_agency[code]:
                    mark = "✓" if line.justified else "✗"
                    self.stdout.write(f"  {mark} [{line.service_id or '—'}] {line.message}")
