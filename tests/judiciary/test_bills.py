"""Bill templates (لوایح): every template composes from valid answers and refuses bad ones; the
journey for a SANA holder who is a party of the case; the bill sent to the judiciary's case
system (a real registry process behind the real gateway of a live server), once, retried while
the court is down; the signed receipt verified online, offline and from its PDF."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import re

import jdatetime
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone, translation

from panjereh.catalogue import operations as catalogue_operations
from panjereh.catalogue.models import Agency
from panjereh.common.persian import to_latin_digits
from panjereh.exchange import breaker, gateway, provision
from panjereh.inbox.models import Message
from panjereh.judiciary import bills, pleadings, tasks
from panjereh.judiciary.models import Case, CaseParty, Pleading, SanaAccount
from panjereh.registries.population import national_code_check_digit
from panjereh.registries.supervisor import Cluster
from panjereh.services import documents, keys
from tests.factories import UserFactory

PLATFORM = {
    "code": "ito",
    "name_fa": "سازمان فناوری اطلاعات ایران",
    "name_en": "Information Technology Organization of Iran",
    "kind": "organisation",
    "connection_status": "connected",
    "connection_form": "national_system",
    "member_class": "GOV",
    "member_code": "10103609470",
}
_serial = itertools.count(300_001)
TODAY = jdatetime.date.today()


def national_code() -> str:
    body = f"{next(_serial):09d}"
    return body + str(national_code_check_digit(body))


def answer_for(q: bills.Question) -> str:
    """A valid answer to any question."""
    if q.kind == "choice":
        return q.choices[0].value
    if q.kind == "date":
        day = (
            TODAY + dt.timedelta(days=10)
            if q.when == bills.FUTURE
            else TODAY - dt.timedelta(days=3)
        )
        return f"{day.year}/{day.month:02d}/{day.day:02d}"
    if q.kind in ("number", "amount"):
        return str(max(q.minimum or 0, 2 if q.maximum is None else min(2, q.maximum)))
    if q.kind == "long":
        return "پاسخ آزمایشی با چند واژه روشن"
    return "پاسخ کوتاه"


def valid_answers(template: bills.Template) -> dict[str, str]:
    return {q.code: answer_for(q) for q in template.questions}


PARTIES = bills.Parties(
    "زهرا احمدی", "0012345679", "defendant", "14059000000012", "دادگاه عمومی حقوقی تهران", "۱۲"
)


# -- the catalogue ---------------------------------------------------------------------------------


def test_the_catalogue_has_at_least_a_dozen_kinds_and_room_for_all_63():
    assert len(bills.TEMPLATES) >= 12
    assert bills.CAPACITY == 63
    numbers = [t.number for t in bills.TEMPLATES]
    assert len(set(numbers)) == len(numbers) and all(1 <= n <= 63 for n in numbers)
    for t in bills.TEMPLATES:
        assert t.title_fa and t.title_en and t.basis_fa and t.basis_en and t.version >= 1
        assert re.search(r"(ماده|مواد|اصل|قانون)", t.basis_fa), t.code  # the law is named
        for q in t.questions:
            assert q.label_fa and q.label_en


def test_a_catalogue_that_cannot_work_is_refused_when_loaded():
    base = bills.get("copy-request")
    from dataclasses import replace

    with pytest.raises(ValueError, match="placeholders"):
        bills.check((replace(base, body_fa=base.body_fa + "{nobody}"),))
    with pytest.raises(ValueError, match="repeated"):
        bills.check((base, replace(base, code="copy-2")))
    with pytest.raises(ValueError, match="holds 63"):
        bills.check(tuple(replace(base, code=f"t{i}", number=i % 63 + 1) for i in range(64)))


@pytest.mark.parametrize("template", bills.TEMPLATES, ids=lambda t: t.code)
def test_every_template_composes_with_valid_answers(template):
    answers = bills.clean(template, valid_answers(template))
    text = bills.compose(template, answers, PARTIES, dt.date(2026, 12, 7))
    assert "{" not in text and "}" not in text
    assert template.title_fa in text
    assert f"مستند قانونی: {template.basis_fa}" in text
    assert "دادگاه عمومی حقوقی تهران" in text and "۱۴۰۵" in text  # the Jalali date
    assert not re.search(r"[0-9]", text)  # Persian digits, as on the court's paper
    for q in template.questions:
        if q.kind in ("text", "long"):
            assert answers[q.code] in text, q.code
        if q.kind == "choice" and len(q.choices) > 1:
            assert q.choices[0].fa in text, q.code


@pytest.mark.parametrize("template", bills.TEMPLATES, ids=lambda t: t.code)
def test_every_template_refuses_missing_and_malformed_answers(template):
    with pytest.raises(bills.Invalid) as empty:
        bills.clean(template, {})
    required = {q.code for q in template.questions if q.required}
    assert set(empty.value.errors) == required
    bad = valid_answers(template)
    expected = set()
    for q in template.questions:
        if q.kind == "choice":
            bad[q.code] = "no-such-choice"
        elif q.kind == "date":
            bad[q.code] = "1405/13/40"
        elif q.kind in ("number", "amount"):
            bad[q.code] = "چند تا"
        else:
            bad[q.code] = "x" * (q.limit + 1)
        expected.add(q.code)
    with pytest.raises(bills.Invalid) as wrong:
        bills.clean(template, bad)
    assert set(wrong.value.errors) == expected


def test_answers_are_read_as_people_type_them():
    template = bills.get("grace-period")
    answers = bills.clean(
        template,
        {"amount": "۱٬۲۵۰٬۰۰۰", "months": "١٢", "way": "lump", "reason": "  بیکار شده‌ام  "},
    )
    assert answers == {"amount": "1250000", "months": "12", "way": "lump", "reason": "بیکار شده‌ام"}
    with translation.override("en"), pytest.raises(bills.Invalid) as out:
        bills.clean(template, {**answers, "months": "61"})
    assert out.value.errors == {"months": "Write a number of at most 60."}
    appeal = bills.get("appeal")
    future = TODAY + dt.timedelta(days=5)
    with translation.override("en"), pytest.raises(bills.Invalid) as late:
        bills.clean(
            appeal,
            {
                **valid_answers(appeal),
                "decision_date": f"{future.year}/{future.month}/{future.day}",
            },
        )
    assert late.value.errors == {"decision_date": "This date cannot be in the future."}


def test_null_characters_control_characters_and_huge_answers_are_refused_clearly():
    template = bills.get("defence")
    answers = valid_answers(template)
    with translation.override("en"):
        for value in ("دفاع\x00من", "دفاع\x1bمن"):
            with pytest.raises(bills.Invalid) as out:
                bills.clean(template, {**answers, "reasons": value})
            assert "not allowed" in out.value.errors["reasons"]
        with pytest.raises(bills.Invalid) as huge:
            bills.clean(template, {**answers, "reasons": "دفاع " * 1_000_000})
        assert huge.value.errors == {"reasons": "Write at most 4000 characters."}


def test_a_template_offers_itself_only_where_it_fits():
    withdraw = bills.get("withdraw-claim")
    assert withdraw.applies_to("civil", "examination", "plaintiff")
    assert not withdraw.applies_to("civil", "examination", "defendant")  # the plaintiff's bill
    assert not withdraw.applies_to("civil", "final", "plaintiff")  # decided: too late
    assert not bills.get("forgiveness").applies_to("civil", "examination", "plaintiff")
    assert bills.get("appeal").applies_to("criminal", "decided", "accused")
    assert bills.get("copy-request").applies_to("family", "closed", "defendant")


# -- the journey, against the judiciary's case system through the exchange ------------------------


@pytest.fixture(scope="module")
def courts():
    cluster = Cluster("small", seed=1404, registries=("courts",)).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def window(live_server, courts, settings, tmp_path):
    """The exchange knows the courts' system; the national window holds its grant on
    ``pleadings``."""
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_JUDICIARY_EXCHANGE_URL = live_server.url
    settings.PANJEREH_EXCHANGE_SEAL_INTERVAL = 0
    gateway.clear_caches()
    breaker.reset()
    cache.clear()
    provision.register_registries(courts.addresses())
    operator = catalogue_operations.save_agency(
        Agency(), dict(PLATFORM), author=catalogue_operations.SYSTEM
    )
    pleadings.provision(operator, resolution_number="1405/test")
    yield courts
    courts.control("courts", mode="normal")
    breaker.reset()


@pytest.fixture(autouse=True)
def _language_back():
    language = translation.get_language()
    yield
    translation.activate(language)


def person(*, sana: bool = True, **fields):
    user = UserFactory(
        is_staff=False,
        national_code=national_code(),
        first_name=fields.pop("first_name", "زهرا"),
        last_name=fields.pop("last_name", "احمدی"),
        mobile="09121234567",
    )
    user.save()
    if sana:
        SanaAccount.objects.create(user=user, sana_id=f"S{user.national_code}", assurance=2)
    return user


def file_case(courts, user, *, role="defendant", kind="civil", stage="examination", known=True):
    """A case at the court (its control address), mirrored as the window's rows."""
    other = national_code()
    other_role = {"defendant": "plaintiff", "plaintiff": "defendant", "accused": "complainant"}.get(
        role, "accused"
    )
    if known:
        answer = courts.control(
            "courts",
            file_case={
                "kind": kind,
                "subject": "مطالبه وجه",
                "court": "دادگاه عمومی حقوقی تهران",
                "branch": "شعبه 12",
                "parties": [
                    {"national_code": user.national_code, "role": role, "name": "زهرا احمدی"},
                    {"national_code": other, "role": other_role, "name": "علی رضایی"},
                ],
            },
        )
        number = answer["number"]
    else:
        number = f"1405{next(_serial):010d}"
    case = Case.objects.create(
        number=number,
        kind=kind,
        subject="مطالبه وجه",
        court="دادگاه عمومی حقوقی تهران",
        branch="شعبه 12",
        stage=stage,
        opened_at=timezone.now(),
    )
    CaseParty.objects.create(
        case=case, national_code=user.national_code, user=user, role=role, name="زهرا احمدی"
    )
    CaseParty.objects.create(case=case, national_code=other, role=other_role, name="علی رضایی")
    return case


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


DEFENCE = {
    "claim": "خواهان مدعی است پنجاه میلیون ریال به او بدهکارم.",
    "reasons": "این مبلغ را در تاریخ ۱۴۰۵/۰۶/۰۱ با کارت بانکی پرداخت کرده‌ام.",
    "evidence": "رسید کارت به کارت بانک ملت",
    "ask": "dismiss",
}


def url(case: Case, template: str = "defence", lang: str = "fa") -> str:
    prefix = "/en" if lang == "en" else ""
    return f"{prefix}/judiciary/bills/new/{template}/?case={case.number}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_party_fills_a_template_sends_it_and_gets_a_signed_receipt(window):
    user = person()
    case = file_case(window, user)
    client = signed_in(user)
    catalogue = client.get("/judiciary/bills/")
    assert catalogue.status_code == 200 and "لایحه دفاعیه" in catalogue.content.decode()
    picker = client.get("/judiciary/bills/new/defence/")
    assert picker.status_code == 200 and case.number in picker.content.decode()
    form = client.get(url(case))
    assert form.status_code == 200 and 'name="reasons"' in form.content.decode()
    preview = client.post(url(case), {**DEFENCE, "action": "preview"})
    page = preview.content.decode()
    assert preview.status_code == 200 and 'id="bill-text"' in page
    assert "صدور حکم بر بطلان دعوای طرف مقابل" in page and "زهرا احمدی" in page
    assert Pleading.objects.count() == 0  # seeing is not sending
    sent = client.post(url(case), {**DEFENCE, "action": "confirm"})
    assert sent.status_code == 302
    pleading = Pleading.objects.get()
    assert sent["Location"] == f"/judiciary/bills/r/{pleading.reference}/"
    assert pleading.state == Pleading.State.SUBMITTED and pleading.court_reference
    assert [h["to"] for h in pleading.data["history"]] == ["submitting", "submitted"]
    assert pleading.data["sha256"] == pleading.data["sha256"].lower() and len(pleading.text) > 200
    # The receipt: signed by the judiciary, valid online, by number (the QR's short form),
    # offline against the published keys, and from its PDF.
    verdict = documents.verify(pleading.receipt_token)
    assert verdict.ok and verdict.claims["num"] == pleading.reference
    assert verdict.claims["iss"] == pleadings.court_agency().code
    assert documents.verify_reference(pleading.reference).ok
    assert documents.verify_signature(pleading.receipt_token, keys.jwks()).ok
    page = client.get(f"/judiciary/bills/r/{pleading.reference}/").content.decode()
    assert 'id="bill-receipt"' in page and pleading.court_reference in to_latin_digits(page)
    pdf = client.get(f"/judiciary/bills/r/{pleading.reference}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert documents.token_from_file(pdf.content) == pleading.receipt_token
    verify_page = Client().get(f"/services/verify/?ref={pleading.reference}").content.decode()
    assert 'data-status="valid"' in verify_page
    message = Message.objects.get(user=user, dedupe_key=f"bill-receipt:{pleading.reference}")
    assert message.document_url.endswith("receipt.pdf")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_forged_or_altered_receipt_does_not_verify(window):
    user = person()
    case = file_case(window, user)
    signed_in(user).post(url(case), {**DEFENCE, "action": "confirm"})
    token = Pleading.objects.get().receipt_token
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["fields"][1][2] = "14059999999999"  # another case number
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert documents.verify(f"{header}.{forged_payload}.{signature}").status == "invalid"
    assert documents.verify_reference("BILL-14050101-DEADBEEF").status == "not_found"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_same_bill_confirmed_twice_is_one_bill_and_the_court_answers_the_same_reference(window):
    user = person()
    case = file_case(window, user)
    client = signed_in(user)
    first = client.post(url(case), {**DEFENCE, "action": "confirm"})
    second = client.post(url(case), {**DEFENCE, "action": "confirm"})
    assert first["Location"] == second["Location"]
    pleading = Pleading.objects.get()
    reference = pleading.court_reference
    # The court keeps one bill per text: sent again (a worker that lost its answer), the same.
    Pleading.objects.filter(pk=pleading.pk).update(
        state=Pleading.State.SUBMITTING, next_try_at=timezone.now(), court_reference=""
    )
    again = pleadings.send(pleading.pk)
    assert again.state == Pleading.State.SUBMITTED and again.court_reference == reference
    # Another text is another bill.
    client.post(
        url(case), {**DEFENCE, "reasons": DEFENCE["reasons"] + " و شاهد دارم.", "action": "confirm"}
    )
    assert Pleading.objects.count() == 2
    assert len(set(Pleading.objects.values_list("court_reference", flat=True))) == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_court_that_is_down_leaves_the_bill_submitting_and_the_job_sends_it_later(window):
    user = person()
    case = file_case(window, user)
    client = signed_in(user)
    window.control("courts", mode="fail", status=503, rate=1.0)
    sent = client.post(url(case), {**DEFENCE, "action": "confirm"})
    pleading = Pleading.objects.get()
    assert sent["Location"] == f"/judiciary/bills/r/{pleading.reference}/"
    assert pleading.state == Pleading.State.SUBMITTING and pleading.attempts == 1
    assert pleading.last_error and not pleading.receipt_token
    assert pleading.next_try_at > timezone.now() + dt.timedelta(seconds=20)  # backoff
    page = client.get(sent["Location"]).content.decode()
    assert 'id="bill-pending"' in page and 'data-state="submitting"' in page
    assert tasks.send_bills() == 0  # not due yet: nothing is tried
    assert Pleading.objects.get().attempts == 1
    Pleading.objects.update(next_try_at=timezone.now())
    breaker.reset()
    assert tasks.send_bills() == 0  # still down: tried, and the delay doubles
    pleading.refresh_from_db()
    assert pleading.attempts == 2 and pleading.state == Pleading.State.SUBMITTING
    assert pleading.next_try_at > timezone.now() + dt.timedelta(seconds=50)
    window.control("courts", mode="normal")
    breaker.reset()
    Pleading.objects.update(next_try_at=timezone.now())
    assert tasks.send_bills() == 1
    pleading.refresh_from_db()
    assert pleading.state == Pleading.State.SUBMITTED and pleading.attempts == 3
    assert documents.verify(pleading.receipt_token).ok
    assert 'id="bill-received"' in client.get(sent["Location"]).content.decode()


def test_the_delay_between_tries_doubles_up_to_an_hour():
    assert [pleadings.backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert pleadings.backoff(30).total_seconds() == 3600


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_case_the_court_does_not_know_fails_and_the_person_is_told(window):
    user = person()
    case = file_case(window, user, known=False)
    signed_in(user).post(url(case), {**DEFENCE, "action": "confirm"})
    pleading = Pleading.objects.get()
    assert pleading.state == Pleading.State.FAILED and "404" in pleading.last_error
    assert Message.objects.filter(
        user=user, dedupe_key=f"bill-failed:{pleading.reference}"
    ).exists()


# -- who may, and bad input --------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_sana_a_person_is_sent_to_register():
    user = person(sana=False)
    answer = signed_in(user).get("/judiciary/bills/")
    assert answer.status_code == 302 and answer["Location"] == "/judiciary/sana/"
    assert Client().get("/judiciary/bills/").status_code == 302  # signed out: to sign in


@pytest.mark.django_db
def test_someone_who_is_not_a_party_gets_404_and_nothing_is_saved():
    owner, stranger = person(), person()
    case = Case.objects.create(
        number="14059000000999",
        kind="civil",
        subject="مطالبه وجه",
        court="دادگاه",
        stage="examination",
        opened_at=timezone.now(),
    )
    CaseParty.objects.create(
        case=case, national_code=owner.national_code, user=owner, role="defendant"
    )
    client = signed_in(stranger)
    assert client.get(url(case)).status_code == 404
    assert client.post(url(case), {**DEFENCE, "action": "confirm"}).status_code == 404
    assert client.get("/judiciary/bills/new/no-such-template/?case=1").status_code == 404
    assert Pleading.objects.count() == 0
    with pytest.raises(pleadings.NotAParty):
        pleadings.prepare(stranger, "defence", case.number, DEFENCE, actor=stranger)
    with pytest.raises(pleadings.NotAParty):  # nobody files for another person
        pleadings.prepare(owner, "defence", case.number, DEFENCE, actor=stranger)
    # Another person's bill is not found either.
    draft = pleadings.prepare(owner, "defence", case.number, DEFENCE, actor=owner)
    bill, _created = pleadings.submit(draft, owner, actor=owner)
    assert client.get(f"/judiciary/bills/r/{bill.reference}/").status_code == 404
    assert client.get(f"/judiciary/bills/r/{bill.reference}/receipt.pdf").status_code == 404


@pytest.mark.django_db
def test_refused_answers_come_back_with_the_summary_first_and_the_form_kept():
    user = person()
    case = Case.objects.create(
        number="14059000000777",
        kind="civil",
        subject="مطالبه وجه",
        court="دادگاه",
        stage="examination",
        opened_at=timezone.now(),
    )
    CaseParty.objects.create(
        case=case, national_code=user.national_code, user=user, role="defendant"
    )
    client = signed_in(user)
    answer = client.post(url(case, lang="en"), {**DEFENCE, "claim": "", "action": "preview"})
    page = answer.content.decode()
    assert answer.status_code == 400
    assert page.index('class="error-summary"') < page.index("<h1")
    assert 'href="#id_claim"' in page and 'aria-invalid="true"' in page
    assert "Answer this question." in page
    assert DEFENCE["reasons"] in page  # the form kept
    with translation.override("fa"):
        answer = client.post(url(case), {**DEFENCE, "reasons": "ب" * 5000, "action": "preview"})
    assert answer.status_code == 400 and "۴۰۰۰" in answer.content.decode()
    assert Pleading.objects.count() == 0


@pytest.mark.django_db
def test_null_bytes_and_oversized_bodies_are_refused_before_anything_is_saved(settings):
    user = person()
    case = Case.objects.create(
        number="14059000000555",
        kind="civil",
        subject="مطالبه وجه",
        court="دادگاه",
        stage="examination",
        opened_at=timezone.now(),
    )
    CaseParty.objects.create(
        case=case, national_code=user.national_code, user=user, role="defendant"
    )
    client = signed_in(user)
    answer = client.post(
        url(case, lang="en"), {**DEFENCE, "reasons": "a\x00b", "action": "confirm"}
    )
    assert answer.status_code == 400 and "not allowed" in answer.content.decode()
    huge = client.post(
        url(case, lang="en"),
        {
            **DEFENCE,
            "reasons": "ب" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10),
            "action": "confirm",
        },
    )
    assert huge.status_code == 413 and "too large" in huge.content.decode()
    with pytest.raises(pleadings.BillRefused) as out:
        pleadings.prepare(
            user, "defence", case.number, {**DEFENCE, "reasons": "a\x00b"}, actor=user
        )
    assert set(out.value.errors) == {"reasons"}
    assert Pleading.objects.count() == 0


@pytest.mark.django_db
def test_a_template_that_does_not_fit_the_case_is_refused():
    user = person()
    case = Case.objects.create(
        number="14059000000333",
        kind="civil",
        subject="مطالبه وجه",
        court="دادگاه",
        stage="examination",
        opened_at=timezone.now(),
    )
    CaseParty.objects.create(
        case=case, national_code=user.national_code, user=user, role="defendant"
    )
    client = signed_in(user)
    answer = client.get(url(case, "withdraw-claim"))  # the plaintiff's bill
    assert answer.status_code == 400 and 'id="bill-unfit"' in answer.content.decode()
    with pytest.raises(pleadings.BillRefused):
        pleadings.prepare(user, "withdraw-claim", case.number, {"scope": "petition"}, actor=user)


@pytest.mark.django_db
def test_from_a_case_page_the_catalogue_offers_the_templates_that_fit_that_case():
    user, stranger = person(), person()
    case = Case.objects.create(
        number="14059000000444",
        kind="criminal",
        subject="توهین",
        court="دادسرا",
        stage="examination",
        opened_at=timezone.now(),
    )
    CaseParty.objects.create(
        case=case, national_code=user.national_code, user=user, role="complainant"
    )
    page = signed_in(user).get(f"/judiciary/bills/?case={case.number}").content.decode()
    assert 'id="bills-for-case"' in page
    assert f"/judiciary/bills/new/forgiveness/?case={case.number}" in page
    assert "template-withdraw-claim" not in page  # a civil plaintiff's bill
    assert signed_in(stranger).get(f"/judiciary/bills/?case={case.number}").status_code == 404
