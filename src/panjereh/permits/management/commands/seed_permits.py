from django.core.management.base import BaseCommand

from panjereh.permits.dataset import seed_permits_catalogue


class Command(BaseCommand):
    help = "Load the generated national permits catalogue (docs/permits.md, Dataset)."

    def add_arguments(self, parser):
        parser.add_argument("--replace", action="store_true", help="drop the catalogue first")

    def handle(self, *args, replace: bool = False, **options):
        report = seed_permits_catalogue(replace=replace)
        self.stdout.write(
            f"permit types {report.permit_types}, condition rows {report.conditions}, "
            f"removals {report.removals}, {report.seconds:.1f} s"
        )
