"""One command for a laptop: migrate, load the national dataset once, start the other
organisations' systems and the background worker, and serve.

Everything it starts (registries, sample agency windows, the worker) is a child process that
stops when the demo stops (Ctrl+C or SIGTERM).
"""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from panjereh.catalogue.models import Agency


def sample_citizens(profile: str) -> list[dict]:
    """Adults of the simulated population with a mobile, for trying the demo: one enrolled
    student, one veteran and one with no criminal record, so each flagship can be issued."""
    from panjereh.registries import PROFILES
    from panjereh.registries.population import Population, jalali

    population = Population(size=PROFILES[profile])
    wanted = {
        "student-status": lambda i: population.student_status(i)["enrolled"],
        "veteran-status": lambda i: population.veteran_status(i)["is_veteran"],
        "no-criminal-record": lambda i: not population.criminal_record(i)["has_record"],
    }
    found: list[dict] = []
    for i in range(min(population.size, 50_000)):
        if not wanted:
            break
        person, mobile = population.person(i), population.mobile(i)
        if not (person["alive"] and 20 <= person["age"] <= 80 and mobile):
            continue
        service = next((code for code, fits in wanted.items() if fits(i)), None)
        if service is None:
            continue
        del wanted[service]
        found.append(
            {
                "index": i,
                "service": service,
                "name": f"{person['first_name']} {person['last_name']}",
                "national_code": population.national_code(i),
                "birth_date": jalali(person["birth_date"]),
                "mobile": mobile,
            }
        )
    return found


def sample_director(profile: str) -> dict | None:
    """An adult of the simulated population with a mobile whom the company registry names as
    the chief executive of an active company: for trying "act for a company" in the demo."""
    from panjereh.registries import PROFILES
    from panjereh.registries.population import Population, jalali

    population = Population(size=PROFILES[profile])
    for j in range(min(population.companies, 2_000)):
        company = population.company(j)
        if company["status"] != "active":
            continue
        i = population.index_of(company["ceo_national_code"])
        if i is None:
            continue
        person, mobile = population.person(i), population.mobile(i)
        if not (person["alive"] and 20 <= person["age"] <= 80 and mobile):
            continue
        return {
            "index": i,
            "name": f"{person['first_name']} {person['last_name']}",
            "national_code": population.national_code(i),
            "birth_date": jalali(person["birth_date"]),
            "mobile": mobile,
            "company_id": company["national_id"],
            "company_name": company["name"],
        }
    return None


def write_photos(profile: str, citizens: list[dict]) -> Path:
    """Each sample citizen's registry photo, as the file a person uploads at the photo step-up
    (the simulation's "face match" is equality with the registry's picture)."""
    from panjereh.registries import PROFILES
    from panjereh.registries.population import Population

    population = Population(size=PROFILES[profile])
    folder = Path(settings.VAR_DIR) / "demo-photos"
    folder.mkdir(parents=True, exist_ok=True)
    for citizen in citizens:
        data_url = population.civil_photo(citizen["index"])["photo"]
        picture = base64.b64decode(data_url.split(",", 1)[1])
        (folder / f"{citizen['national_code']}.svg").write_bytes(picture)
    return folder


class Command(BaseCommand):
    help = "Migrate, seed the calibrated national dataset if the database is empty, and serve."

    def add_arguments(self, parser):
        parser.add_argument("--profile", default="national", choices=["national", "small"])
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Prepare only.")
        parser.add_argument(
            "--history",
            type=int,
            default=6,
            help="Months of SIMULATED activity (applications, payments, sign-ins, exchange calls) "
            "to seed "
            "once, so that observed figures are not empty; 0: none.",
        )

    def handle(self, *args, profile, bind, no_serve, history=6, **options):
        call_command("migrate", verbosity=0, interactive=False)
        if not Agency.objects.exists():
            self.stdout.write(f"Loading the {profile} dataset (first run only)…")
            call_command("seed", profile=profile)
        call_command("services", "load-definitions")  # adds the definitions' agencies
        self._seed_definitions()
        call_command("demo_accounts")
        # The sample citizens hold a certificate from the start: "My documents" at /my/.
        from panjereh.demo.personal import seed_documents

        try:
            seed_documents(profile, sample_citizens(profile), self.stdout.write)
        except Exception as exc:  # the rest of the demo does not need it
            self.stderr.write(f"The sample citizens' documents were not issued: {exc!r}")
        call_command("oversight", "seed-obligations")
        self._seed_participation()
        from panjereh.demo.appointments import seed as seed_appointments

        seed_appointments(self.stdout.write)
        self._seed_permits(history)
        from panjereh.demo.payments import treasury_accounts

        treasury_accounts(self.stdout.write)
        self._seed_history(history)
        if no_serve:
            return
        host = bind if bind.startswith("http") else f"http://{bind}"
        # Links, QR codes and the exchange address follow the address actually served; child
        # processes read it from the environment, forked server workers from settings.
        os.environ["PANJEREH_PUBLIC_URL"] = settings.PUBLIC_BASE_URL = host

        from panjereh.demo.children import Watchdog
        from panjereh.demo.exchange import start_registries
        from panjereh.demo.identity import start_identity_demo
        from panjereh.demo.payments import start_psp
        from panjereh.services.worker import start_child

        with contextlib.ExitStack() as children:
            registries = start_registries(profile, self.stdout.write)
            children.callback(registries.stop)
            # The bank, before the worker and the server: both read its address at start.
            bank = start_psp(self.stdout.write)
            children.callback(bank.stop)
            # The specialised permit portals, before the worker that sends to and reads them.
            from panjereh.demo.portals import start_portals

            permit_portals = start_portals(self.stdout.write)
            children.callback(permit_portals.stop)
            watchdog = Watchdog(registries, bank, self.stderr.write, portals=permit_portals)
            watchdog.start()
            children.callback(watchdog.stop)  # first out: nothing is restarted while stopping
            windows = start_identity_demo(host, self.stdout.write)
            children.callback(windows.stop)
            # The window is now a consumer: its grants on the billers' services.
            from panjereh.demo.payments import bill_payments
            from panjereh.registries import billers

            try:
                bill_payments(registries.url(billers.NAME), self.stdout.write)
            except Exception as exc:  # the rest of the demo does not need bills
                self.stderr.write(f"Bills cannot be paid in this run: {exc!r}")
            # Case progress: the window's grants on the courts' cases and their feed.
            from panjereh.judiciary import cases as court_cases

            try:
                court_cases.provision(court_cases.window_agency(), resolution_number="1404/demo")
                # Bills (لوایح) sent to a case: the window's grant on the courts' pleadings.
                from panjereh.judiciary import pleadings

                pleadings.provision(court_cases.window_agency(), resolution_number="1404/demo")
            except Exception as exc:  # the rest of the demo does not need it
                self.stderr.write(f"Case progress cannot read the courts in this run: {exc!r}")
            # Asset inquiry: the judiciary as a consumer with grants on the asset registries.
            from panjereh.assets import operations as asset_inquiry

            try:
                asset_inquiry.provision(resolution_number="1404/demo")
            except Exception as exc:  # the rest of the demo does not need it
                self.stderr.write(
                    f"Asset inquiries cannot read the registries in this run: {exc!r}"
                )
            # The transaction-credit check: the window's grant on the convictions registry.
            from panjereh.demo.credit import credit_checks

            try:
                credit_checks(self.stdout.write)
            except Exception as exc:  # the rest of the demo does not need it
                self.stderr.write(f"Credit checks cannot read the registry in this run: {exc!r}")
            # SANA: the window's grant on the judiciary's SANA services; its courts as senders.
            from panjereh.demo.sana import sana_setup

            try:
                sana_setup(self.stdout.write)
            except Exception as exc:  # the rest of the demo does not need it
                self.stderr.write(f"SANA registration is not available in this run: {exc!r}")
            # Grants for the definitions' data (the dataset's too); those in place are kept.
            from panjereh.demo.definitions import provision

            provision(write=self.stdout.write)
            # The exchange's monthly figures of the simulated history: only now are the
            # registries registered as data services whose calls they count.
            self._seed_exchange_history(history)
            # The systems the status page watches, at this run's addresses, and the days
            # finished since the last run rolled up; the worker (a process apart from the
            # server, so it sees the server's own outage too) probes them every
            # PANJEREH_STATUS_INTERVAL seconds (the job status-probe).
            from panjereh.status.monitor import rollup, sync_systems

            sync_systems()
            rollup()
            worker = start_child()
            children.callback(worker.stop)
            self._print_ready(host, profile, bank.url)
            call_command("serve", bind=bind.replace("http://", ""))

    def _seed_definitions(self) -> None:
        """The dataset cards' definitions (once; ``panjereh seed`` writes them with a new
        catalogue, this covers a catalogue seeded before they existed)."""
        from panjereh.demo.definitions import GeneratorError
        from panjereh.demo.management.commands.seed import seed_definitions

        try:
            seed_definitions(self.stdout.write, self.style)
        except GeneratorError as exc:
            self.stdout.write(
                self.style.WARNING(
                    f"No definitions for the dataset's cards ({exc}); the catalogue was seeded "
                    "by an older version: `panjereh seed --replace` loads it again."
                )
            )

    def _seed_history(self, months: int) -> None:
        """Simulated applications, sign-ins and exchange calls (panjereh.demo.history), once."""
        import time

        from panjereh.demo.history import payments, seed

        started = time.perf_counter()
        done = seed(months)
        if not done.skipped:
            self.stdout.write(
                f"Simulated history ({done.months} months, SIMULATED): {done.applications} "
                f"applications, {done.events} journey events, {done.sign_ins} sign-ins in "
                f"{time.perf_counter() - started:.1f} s."
            )
        if months <= 0:
            return
        started = time.perf_counter()
        paid = payments()  # also for a history seeded before payments existed
        if not paid.skipped:
            self.stdout.write(
                f"Simulated payments (SIMULATED): {paid.payments} payments ({paid.captured} "
                f"paid), {paid.refunds} refunds, {paid.events} events in "
                f"{time.perf_counter() - started:.1f} s."
            )

    def _seed_exchange_history(self, months: int) -> None:
        """The exchange's SIMULATED monthly call statistics (months that have none)."""
        import time

        from panjereh.demo.history import exchange

        started = time.perf_counter()
        rows = exchange(months)
        if rows:
            self.stdout.write(
                f"Simulated exchange statistics (SIMULATED): {rows} monthly rows in "
                f"{time.perf_counter() - started:.1f} s."
            )

    def _seed_permits(self, history: int = 6) -> None:
        """The generated national permits catalogue (panjereh.permits.dataset), then its
        simulated issued permits (panjereh.demo.permits_history; none with ``--history 0``),
        once."""
        from panjereh.demo import permits_history
        from panjereh.permits.dataset import seed_permits_catalogue

        report = seed_permits_catalogue()
        from panjereh.permits.dataset import assign_portals

        assign_portals()  # a catalogue seeded before the specialised portals were known
        if report.seconds:
            self.stdout.write(
                f"Permits catalogue (generated): {report.permit_types:,} permit types, "
                f"{report.conditions:,} conditions, {report.removals:,} removed, "
                f"in {report.seconds:.1f} s"
            )
        if history <= 0:
            return
        done = permits_history.seed()
        if not done.skipped:
            self.stdout.write(
                f"Issued permits (SIMULATED): {done.permits:,} permits, {done.events:,} history "
                f"events, {done.applications:,} applications ({done.trace:,} trace steps), "
                f"{done.ratings:,} ratings in {done.seconds:.1f} s"
            )

    def _seed_participation(self) -> None:
        """Proposals, consultations and last week's votes; the Steering WG's demo member
        moderates the public texts."""
        from django.contrib.auth.models import Group

        from panjereh.demo.participation import seed
        from panjereh.identity.models import User
        from panjereh.participation.roles import MODERATORS

        seed(lambda *_args, **_kwargs: None)
        moderators, _created = Group.objects.get_or_create(name=MODERATORS)
        for user in User.objects.filter(username="steering-member"):
            user.groups.add(moderators)

    def _print_ready(self, host: str, profile: str, bank: str = "") -> None:
        from panjereh.psp import TEST_CARDS

        cards = {behaviour: card for card, behaviour in TEST_CARDS.items()}
        citizens = sample_citizens(profile)
        director = sample_director(profile)
        photos = write_photos(profile, citizens + ([director] if director else []))
        people = "\n".join(
            f"    {p['national_code']}  born {p['birth_date']}  mobile {p['mobile']}"
            f"  ({p['name']}; can get: {p['service']})"
            for p in citizens
        )
        if director:
            people += (
                f"\n    {director['national_code']}  born {director['birth_date']}  mobile "
                f"{director['mobile']}  ({director['name']}; chief executive of company "
                f"{director['company_id']}, {director['company_name']}: add it at "
                "/account/companies/ and act for it)"
            )
        from panjereh.permits.models import IssuedPermit, PermitStatus

        sample_permit = (
            IssuedPermit.objects.filter(status=PermitStatus.VALID)
            .order_by("id")
            .values_list("number", flat=True)
            .first()
        )
        permit_page = f"{host}/permits/p/{sample_permit}/" if sample_permit else "(none seeded)"
        self.stdout.write(
            self.style.SUCCESS(
                "\nPanjereh is ready.\n"
                f"  Portal (Persian):      {host}/\n"
                f"  Portal (English):      {host}/en/\n"
                f"  Register / sign in:    {host}/account/register/  (one-time codes are printed here)\n"
                f"  Transparency portal:   {host}/transparency/\n"
                f"  The citizen's voice:   {host}/participate/  (votes, proposals, consultations)\n"
                f"  Ratings, complaints:   {host}/feedback/public/\n"
                f"  System status:         {host}/status/\n"
                f"  Verify a document:     {host}/services/verify/\n"
                f"  Permits:               {host}/permits/  (apply from a permit's page; as a "
                "company: add it at /account/companies/ and switch to it first)\n"
                f"  A permit's QR page:    {permit_page}  (rate the holder when signed in)\n"
                f"  Official notices:      {host}/mailbox/  (sent by agencies through "
                "/api/mailbox/v1/; docs/mailbox.md)\n"
                f"  Back office:           {host}/admin/  (accounts printed above)\n"
                f"  Payments:              {host}/payments/  (yours)  {host}/payments/finance/  "
                "(agency admins above, e.g. judiciary-admin)\n"
                f"  Simulated bank:        {bank}/  test cards (any expiry, CVV2, one-time code): "
                f"{cards.get('success', '')} pays, {cards.get('insufficient_funds', '')} is "
                "declined\n"
                f"  API schema (OpenAPI):  {host}/api/schema/\n"
                "  People of the simulated civil registry you can register as:\n"
                f"{people}\n"
                f"  Their registry photos, for the level-2 photo check: {photos}/\n"
                "Press Ctrl+C to stop.\n"
            )
        )
