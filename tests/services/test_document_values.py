"""Every value on a document and on the verification page is written for people: a label,
never a registry's code; a Jalali year or date, never a Gregorian one. Every definition's
document is issued and rendered (PDF text, verification page in Persian and English) with
records the simulated registries give for a range of real people of the population."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from panjereh.common.persian import to_latin_digits
from panjereh.registries.server import _handlers
from panjereh.services import definitions, documents, engine, rules
from panjereh.services.models import FetchedData
from panjereh.services.rules import lookup
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
GREGORIAN_YEAR_RE = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")
DOCUMENT_NUMBER_RE = re.compile(r"\b[A-Z]+(?:-[A-Z0-9]+)*-\d{8}-[0-9A-F]{8}\b")
SAMPLES_PER_DEFINITION = 6


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _codes(data: dict) -> set[str]:
    """The registries' codes in ``data`` (``combatant``, ``male``, ``bachelor``…) and the
    Python spellings of yes/no/nothing."""
    found = {"True", "False", "None"}
    for leaf in _leaves(data):
        if isinstance(leaf, str) and CODE_RE.fullmatch(leaf):
            found.add(leaf)
    return found


def _records(population, handlers, spec: dict, i: int) -> dict | None:
    """The records each fetch of ``spec`` gets for person ``i`` (None if one is missing)."""
    applicant = population.national_code(i)
    data: dict = {"subject": applicant, "input": {}}
    for fetch in spec["data"]:
        subject = fetch.get("subject", "applicant")
        code = applicant if subject in ("applicant", "subject") else lookup(data, subject)
        if not code:
            return None
        status, record = handlers[(fetch["registry"], fetch["service"])](str(code), {})
        if status != 200 or any(record.get(f) is None for f in fetch.get("required", [])):
            return None
        data[fetch["name"]] = record
    return data


def _samples(population, spec: dict) -> list[dict]:
    """Up to a few people per definition, each bringing other codes than the ones before
    (so a vocabulary's every code is seen, not only the commonest)."""
    handlers = _handlers(population)
    seen: set[frozenset] = set()
    out = []
    for i in range(population.size):
        data = _records(population, handlers, spec, i)
        if data is None or not all(rules.evaluate(e["rule"], data) for e in spec["eligibility"]):
            continue  # a document is issued only to whom the rules admit
        signature = frozenset(_codes(data))
        if signature in seen:
            continue
        seen.add(signature)
        out.append(data)
        if len(out) >= SAMPLES_PER_DEFINITION:
            break
    assert out, f"nobody in the population has the records of {spec['code']}"
    return out


def _issue(definition, data: dict):
    user = UserFactory(national_code=data["subject"], assurance_level=4)
    inputs = {item["code"]: "بانک ملی ایران" for item in definition.spec.get("inputs", [])}
    data["input"] = inputs
    # A human-path definition asks for files too: a small PDF for each.
    files = {
        upload["code"]: SimpleUploadedFile(f"{upload['code']}.pdf", b"%PDF-1.4\n%%EOF\n")
        for upload in definition.spec.get("uploads", [])
    }
    application, _created = engine.submit(
        definition,
        user,
        idempotency_key=uuid.uuid4().hex,
        inputs=inputs,
        files=files,
        subject_code=data["subject"],
    )
    for fetch in definition.spec["data"]:
        FetchedData.objects.create(
            application=application, name=fetch["name"], record=data[fetch["name"]]
        )
    return documents.issue(application, engine._data(application))


def _visible(html: str) -> str:
    """The text a person reads on a page (no markup, scripts, styles or attribute values)."""
    html = re.sub(r"<(script|style|head)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<textarea\b.*?</textarea>", " ", html, flags=re.S)  # the pasted token
    return to_latin_digits(re.sub(r"<[^>]+>", " ", html))


def _problems(where: str, text: str, codes: set[str]) -> list[str]:
    found = []
    for code in codes:
        if re.search(rf"(?<![A-Za-z_]){re.escape(code)}(?![A-Za-z_])", text):
            found.append(f"{where}: raw code {code!r}")
    # A document number (MSRT-H-14050916-7E1959DE) is an identifier, not a date: its random
    # hex part may hold four digits that look like a year.
    text = DOCUMENT_NUMBER_RE.sub(" ", text)
    for match in GREGORIAN_YEAR_RE.finditer(text):
        found.append(
            f"{where}: Gregorian year {match.group(0)} in …{text[max(0, match.start() - 40) : match.end() + 10]}…"
        )
    return found


@pytest.mark.parametrize(
    "path", sorted(definitions.DEFINITIONS_DIR.glob("*.json")), ids=lambda p: p.stem
)
def test_every_definition_writes_labels_and_jalali_years_on_its_document(
    path, population, client, settings
):
    settings.PANJEREH_SERVICES_HTTP_TIMEOUT = 1
    definitions.load()
    spec = definitions.read_file(path)
    definition = definitions.active(spec["code"])
    problems = []
    for data in _samples(population, definition.spec):
        codes = _codes(data)
        document = _issue(definition, data)
        claims = documents.claims_of(document)
        values = [claims["text_fa"]] + [str(v) for field in claims["fields"] for v in field[2:]]
        problems += _problems(f"{spec['code']} signed values", " | ".join(values), codes)
        pdf = re.search(r"<body>(.*)<div class=\"verify\">", documents.pdf_html(document), re.S)
        problems += _problems(f"{spec['code']} PDF", _visible(pdf.group(1)), codes)
        for prefix, lang in (("", "fa"), ("/en", "en")):
            with translation.override(lang):
                page = client.get(f"{prefix}/services/verify/?ref={document.number}")
            text = _visible(page.content.decode())
            assert 'data-status="valid"' in page.content.decode()
            problems += _problems(f"{spec['code']} verify page ({lang})", text, codes)
    assert not problems, "\n".join(sorted(set(problems)))


def test_a_code_no_vocabulary_knows_is_written_as_a_dash_not_as_itself():
    from panjereh.services import labels

    assert labels.format_value("combatant", "veteran_status") == "رزمنده"
    assert labels.format_value("combatant", "veteran_status", "en") == "Combatant"
    assert labels.format_value("space_cadet", "veteran_status") == "—"
    assert labels.format_value(2023, "jyear") == "1402"
    assert labels.format_value("2025-03-01T10:30:00", "jdate") == "1403/12/11"
    assert labels.format_value(True, None) == "بله"


def test_a_definition_naming_an_unknown_format_is_refused():
    spec = definitions.read_file(definitions.DEFINITIONS_DIR / "veteran-status.json")
    spec["document"]["fields"][2]["value"] = "{veteran.status|shout}"
    assert any("unknown format" in p for p in definitions.validate(spec))


def test_the_agency_page_shows_what_the_applicant_typed_under_its_label(client):
    from tests.factories import make_agency_staff

    definitions.load()
    definition = definitions.active("no-criminal-record")
    user = UserFactory(national_code="0012345679", assurance_level=3)
    application, _created = engine.submit(
        definition, user, idempotency_key="k", inputs={"purpose": "بانک ملی"}
    )
    client.force_login(make_agency_staff(definition.agency))
    with translation.override("en"):
        page = client.get(f"/en/services/agency/a/{application.tracking_code}/")
    text = _visible(page.content.decode())
    label = definition.spec["inputs"][0]["label_en"]
    assert f"{label}: بانک ملی" in " ".join(text.split())
    assert "purpose:" not in text
