"""Register the national window as a consumer of the exchange for its identity checks."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from panjereh.catalogue import operations
from panjereh.catalogue.models import Agency
from panjereh.identity import registry_checks

PLATFORM_AGENCY = {
    "code": "ito",
    "name_fa": "سازمان فناوری اطلاعات ایران",
    "name_en": "Information Technology Organization of Iran",
    "kind": "organisation",
    "connection_status": "connected",
    "connection_form": "national_system",
    "member_class": "GOV",
    "member_code": "10103609470",
}


class Command(BaseCommand):
    help = (
        "Register the national window (run by the platform operator's agency) as an exchange "
        "consumer with approved grants for Civil Registration and mobile-ownership checks. "
        "The data services must be registered first (panjereh registries run / exchange)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--agency", default="ito", help="Code of the platform operator agency")
        parser.add_argument("--resolution", default="1404/identity-demo")

    def handle(self, *args, agency, resolution, **options):
        operator = Agency.objects.filter(code=agency).first()
        if operator is None:
            if agency != PLATFORM_AGENCY["code"]:
                raise CommandError(f"no agency with code {agency}")
            operator = operations.save_agency(
                Agency(), dict(PLATFORM_AGENCY), author=operations.SYSTEM
            )
        try:
            system = registry_checks.provision(operator, resolution_number=resolution)
        except Exception as exc:  # the data services may not be registered yet
            raise CommandError(f"cannot provision the national window: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"national window consumer: {system.client_id}"))
