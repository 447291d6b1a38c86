"""What `panjereh demo` prints must work: the sample citizens qualify for what it says."""

import base64
import os
import subprocess
import sys

from panjereh.demo.management.commands.demo import sample_citizens, sample_director, write_photos
from panjereh.registries.population import Population


def test_sample_citizens_can_get_the_certificates_printed_next_to_them(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    citizens = sample_citizens("small")
    assert {c["service"] for c in citizens} == {
        "student-status",
        "veteran-status",
        "no-criminal-record",
    }
    people = Population(size=10_000)
    for citizen in citizens:
        i = citizen["index"]
        assert people.national_code(i) == citizen["national_code"]
        assert people.mobile(i) == citizen["mobile"]
        assert people.person(i)["age"] >= 20
    student = next(c for c in citizens if c["service"] == "student-status")
    assert people.student_status(student["index"])["enrolled"]
    veteran = next(c for c in citizens if c["service"] == "veteran-status")
    assert people.veteran_status(veteran["index"])["is_veteran"]

    folder = write_photos("small", citizens)
    for citizen in citizens:
        registry = people.civil_photo(citizen["index"])["photo"].split(",", 1)[1]
        saved = (folder / f"{citizen['national_code']}.svg").read_bytes()
        assert saved == base64.b64decode(registry)


def test_the_sample_director_is_named_by_the_company_registry():
    director = sample_director("small")
    assert director is not None
    people = Population(size=10_000)
    i = director["index"]
    assert people.national_code(i) == director["national_code"]
    assert people.mobile(i) == director["mobile"] and people.person(i)["age"] >= 20
    j = people.company_of_id(director["company_id"])
    assert people.company(j)["status"] == "active"
    named = {(r["national_code"], r["role"]) for r in people.company_representatives(j)}
    assert (director["national_code"], "ceo") in named


def _pems() -> dict[str, str]:
    """A fresh RSA and EC key, as production reads them from the environment."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    def pem(key) -> str:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    return {
        "PANJEREH_OIDC_KEY": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "PANJEREH_OIDC_EC_KEY": pem(ec.generate_private_key(ec.SECP256R1())),
    }


def _panjereh_help(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "panjereh", "help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**clean, "PANJEREH_VAR": str(tmp_path), **env},
    )


def test_production_installs_no_demo_app_and_has_no_demo_commands(tmp_path):
    result = _panjereh_help(
        tmp_path, PANJEREH_MODE="production", PANJEREH_SECRET_KEY="x" * 50, **_pems()
    )
    assert result.returncode == 0, result.stderr
    assert "[demo]" not in result.stdout
    for name in ("demo", "demo_accounts", "seed"):
        assert f"    {name}\n" not in result.stdout
    for name in ("serve", "catalogue", "services"):
        assert f"    {name}\n" in result.stdout


def test_the_demo_mode_has_the_demo_commands(tmp_path):
    result = _panjereh_help(tmp_path, PANJEREH_MODE="demo")
    assert result.returncode == 0, result.stderr
    assert "[demo]" in result.stdout
    for name in ("demo", "demo_accounts", "seed"):
        assert f"    {name}\n" in result.stdout


# -- payments in the demo ----------------------------------------------------------------------


def test_every_agency_that_takes_a_fee_gets_one_valid_treasury_account(db):
    from panjereh.demo.payments import shaba_for, treasury_accounts
    from panjereh.payments.models import TreasuryAccount, validate_shaba
    from tests.factories import make_agency, make_service

    charging, free = make_agency(), make_agency()
    make_service(agency=charging, fee=250_000)
    make_service(agency=free, fee=0)

    assert treasury_accounts(lambda *_: None) >= 1
    account = TreasuryAccount.objects.get(agency=charging)
    assert account.active and account.shaba == shaba_for(charging.pk)
    validate_shaba(account.shaba)
    assert not TreasuryAccount.objects.filter(agency=free).exists()
    # Idempotent: the next start keeps the accounts it finds.
    assert treasury_accounts(lambda *_: None) == 0
    assert TreasuryAccount.objects.filter(agency=charging).count() == 1
    for pk in (1, 97, 684, 10**9):
        validate_shaba(shaba_for(pk))  # IR, 24 digits, check digits mod 97


def test_the_demo_starts_the_bank_with_a_secret_of_its_own_restarts_and_stops_it(
    settings, tmp_path, monkeypatch
):
    import datetime as dt

    from panjereh.demo.children import Watchdog
    from panjereh.demo.payments import URL_SETTING, start_psp
    from panjereh.payments import conf, providers
    from panjereh.psp.supervisor import control

    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("PANJEREH_PAYMENTS_PSP_SECRET", raising=False)
    monkeypatch.setenv(URL_SETTING, "http://127.0.0.1:0")  # any free port
    conf.SECTION.clear()
    bank = start_psp(lambda *_: None)
    try:
        secret = (tmp_path / "payments" / "psp-secret").read_text().strip()
        assert len(secret) == 64  # made for this data directory, not a constant of the code
        assert os.environ[URL_SETTING] == bank.url == conf.get("PSP_URL")
        # The portal's provider signs with the secret the bank was given: a signed call passes.
        yesterday = dt.date.today() - dt.timedelta(days=1)
        providers.get("simulated").settlement(yesterday)

        class NoRegistries:
            processes: dict = {}

        watchdog = Watchdog(NoRegistries(), bank, lambda *_: None)
        first = bank.process
        first.kill()
        first.wait()
        assert watchdog.check() == 1  # started again, on its port, with the same secret
        second = bank.process
        assert second is not first and control(bank.url)["mode"] == "normal"
        providers.get("simulated").settlement(yesterday)
        watchdog.stop()  # the demo stops the watchdog first: nothing restarts while stopping
        second.kill()
        second.wait()
        assert watchdog.check() == 0 and bank.process is second
        bank.process = None
        live = bank.start().process
        bank.stop()  # the demo stopping
        assert live.poll() is not None and bank.process is None
    finally:
        bank.stop()
        conf.SECTION.clear()


def test_the_history_pays_fee_bearing_applications_with_the_state_machines_rows(db):
    import datetime as dt

    from django.utils import timezone

    from panjereh.demo import history
    from panjereh.demo.payments import treasury_accounts
    from panjereh.payments.models import Payment, PaymentEvent, Refund, TreasuryAccount
    from panjereh.payments.operations import TRANSITIONS
    from panjereh.services.models import Application, ServiceDefinition
    from tests.factories import UserFactory, make_agency, make_service

    agency = make_agency()
    paid_card, free_card = make_service(agency=agency, fee=250_000), make_service(agency=agency)
    treasury_accounts(lambda *_: None)
    account = TreasuryAccount.objects.get(agency=agency, active=True)

    def definition(code, card):
        return ServiceDefinition.objects.create(
            code=code,
            version=1,
            service=card,
            agency=agency,
            title_fa="گواهی",
            spec={},
            digest=code,
        )

    paid, free = definition("fee-test", paid_card), definition("free-test", free_card)
    user = UserFactory()
    now = timezone.now()
    apps = []
    for n in range(60):
        submitted = now - dt.timedelta(days=5 + n, hours=n % 7)
        apps.append(
            Application(
                tracking_code=f"{history.PREFIX}T-{n:03d}",
                definition=free if n % 10 == 9 else paid,
                fee_rials=0 if n % 10 == 9 else 250_000,
                agency=agency,
                user=user,
                subject_code=user.national_code or "0",
                idempotency_key=f"t{n}",
                state="rejected" if n % 4 == 0 else "issued",
                submitted_at=submitted,
                due_at=submitted,
                completed_at=submitted + dt.timedelta(minutes=5),
            )
        )
    recent = now - dt.timedelta(hours=2)  # inside the days the settlement job reconciles
    apps.append(
        Application(
            tracking_code=f"{history.PREFIX}T-recent", definition=paid, agency=agency, user=user,
            subject_code="0", idempotency_key="recent", state="issued", submitted_at=recent,
            fee_rials=250_000,
            due_at=recent, completed_at=recent,
        )
    )  # fmt: skip
    Application.objects.bulk_create(apps)

    done = history.payments(seed=7)
    assert not done.skipped and done.captured == 54  # the fee-bearing ones, not the recent one
    assert done.payments > done.captured  # some paid at a second attempt
    by_code = {a.tracking_code: a for a in Application.objects.all()}
    paid_purposes = set()
    for payment in Payment.objects.all():
        application = by_code[payment.purpose_id]
        assert application.definition_id == paid.pk and payment.purpose_kind == "application"
        assert payment.amount == 250_000 and payment.account_id == account.pk
        assert payment.payer_id == user.pk
        moves = list(
            PaymentEvent.objects.filter(payment=payment)
            .order_by("at", "pk")
            .values_list("from_state", "to_state")
        )
        assert moves[0] == ("", "created") and moves[-1][1] == payment.state
        for (_before, after), (source, target) in zip(moves, moves[1:], strict=False):
            assert after == source and target in TRANSITIONS[source]
        if payment.captured_amount:
            paid_purposes.add(payment.purpose_id)
            assert payment.state == "settled" and payment.purpose_told_at is not None
            assert payment.captured_at < application.submitted_at
            refunded = application.state == "rejected"
            assert payment.refunded_amount == (payment.amount if refunded else 0)
            assert Refund.objects.filter(payment=payment, state="refunded").count() == refunded
            if refunded:
                refund = Refund.objects.get(payment=payment)
                assert refund.idempotency_key == f"reject:{application.tracking_code}"
        else:
            assert payment.state in ("failed", "cancelled", "reversed") and payment.ended_at
    assert len(paid_purposes) == 54 and f"{history.PREFIX}T-recent" not in paid_purposes
    assert history.payments(seed=7).skipped  # once


def test_the_exchange_history_counts_calls_once_the_registries_are_data_services(db):
    from panjereh.demo import history
    from panjereh.exchange.models import DataService, MonthlyStat
    from panjereh.services.models import ServiceDefinition
    from tests.factories import make_agency, make_service

    agency = make_agency()
    spec = {"data": [{"registry": "civil", "service": "identity", "items": ["civil.identity"]}]}
    ServiceDefinition.objects.create(
        code="reads-civil", version=1, service=make_service(agency=agency), agency=agency,
        title_fa="گواهی", spec=spec, digest="d",
    )  # fmt: skip
    # Before the registries are registered there is nothing to count (the old order's zero).
    assert history.exchange(3) == 0
    DataService.objects.create(
        provider=make_agency(), subsystem="civil-registry", code="identity", title_fa="هویت",
        items=[{"code": "civil.identity"}], upstream_base_url="http://127.0.0.1:9/identity",
    )  # fmt: skip
    assert history.exchange(3) == 3  # the three complete months, one consumer and service
    rows = MonthlyStat.objects.filter(consumer=agency)
    assert rows.count() == 3 and all(r.calls >= r.failures for r in rows)
    assert history.exchange(3) == 0  # months with rows are kept
