"""The mailbox machine API in docs/openapi.yaml: every address described, with the exchange
member's security scheme, and the document kept honest: it is what the code generates, and
real answers of the API (successes and errors) fit the schemas it declares."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from django.test import override_settings
from django.urls import resolve
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from panjereh.mailbox import api, api_schema
from panjereh.mailbox.operations import process_items

from .conftest import PDF, b64, national_code

pytestmark = pytest.mark.django_db

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
BASE = "/api/mailbox/v1/"
OPERATIONS = {
    (f"{BASE}notices", "post"): api.notices,
    (f"{BASE}notices/{{reference}}", "get"): api.notice,
    (f"{BASE}notices/{{reference}}/proof", "get"): api.proof,
    (f"{BASE}batches", "post"): api.batches,
    (f"{BASE}batches/{{reference}}", "get"): api.batch,
}


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


def test_every_mailbox_address_is_described_with_the_exchange_member_scheme(document):
    described = {
        (path, method)
        for path, item in document["paths"].items()
        if path.startswith(BASE)
        for method in item
    }
    assert described == set(OPERATIONS)
    schemes = document["components"]["securitySchemes"]
    assert schemes["exchangeClient"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Road-Client",
        "description": schemes["exchangeClient"]["description"],
    }
    assert schemes["clientAssertion"]["scheme"] == "bearer"
    for (path, method), view in OPERATIONS.items():
        operation = document["paths"][path][method]
        # Both headers together (AND), nothing else (no cookie or session).
        assert operation["security"] == [{"exchangeClient": [], "clientAssertion": []}]
        assert {"400", "401", "429"} <= set(operation["responses"])
        # The address really calls the plain view the description belongs to.
        url = path.replace("{reference}", "N0501ABC")
        assert resolve(url).func is view
        if method == "post":
            headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
            assert "Idempotency-Key" in headers
            assert set(operation["requestBody"]["content"]) == {"application/json"}
    code = document["components"]["schemas"]["MailboxError"]["properties"]["code"]
    if "$ref" in code:
        code = document["components"]["schemas"][code["$ref"].rsplit("/", 1)[1]]
    codes = code["enum"]
    assert set(codes) == set(api_schema.ERROR_CODES)


def test_the_committed_document_is_what_the_code_generates(document):
    """``make openapi`` was run after the last change of the descriptions."""
    from drf_spectacular.generators import SchemaGenerator

    generated = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))
    for path, method in OPERATIONS:
        assert generated["paths"][path][method] == document["paths"][path][method], path
    # Every component the mailbox's operations refer to, transitively.
    names, todo = set(), [generated["paths"][path][method] for path, method in OPERATIONS]
    while todo:
        for name in re.findall(r"#/components/schemas/(\w+)", json.dumps(todo.pop())):
            if name not in names:
                names.add(name)
                todo.append(generated["components"]["schemas"][name])
    assert {"MailboxNoticeRequest", "MailboxNoticeStatus", "MailboxError"} <= names
    for name in names:
        assert generated["components"]["schemas"][name] == document["components"]["schemas"][name]
    for name in ("exchangeClient", "clientAssertion"):
        generated_scheme = generated["components"]["securitySchemes"][name]
        assert generated_scheme == document["components"]["securitySchemes"][name]


class Contract:
    """Checks a real answer against the document: its status declared for the operation, its
    content type declared, its body valid against the declared schema."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.registry = Registry().with_resource(
            "urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012)
        )
        self.seen: set[tuple[str, str, str]] = set()

    def check(self, path: str, method: str, response) -> None:
        responses = self.document["paths"][path][method]["responses"]
        status = str(response.status_code)
        assert status in responses, (path, method, status, response.content[:200])
        media = response["Content-Type"].split(";")[0]
        content = responses[status]["content"]
        assert media in content, (path, method, status, media)
        pointer = f"/paths/{_escape(path)}/{method}/responses/{status}/content/{_escape(media)}"
        schema = {"$ref": f"urn:openapi#{pointer}/schema"}
        validator = Draft202012Validator(
            schema, registry=self.registry, format_checker=FormatChecker()
        )
        body = response.json() if media == "application/json" else response.content.decode()
        errors = [e.message for e in validator.iter_errors(body)]
        assert not errors, (path, method, status, errors)
        self.seen.add((path, method, status))


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1").replace("{", "%7B").replace("}", "%7D")


def test_real_answers_fit_the_document(document, sender, citizen, client, registries):
    contract = Contract(document)
    notices, notice = f"{BASE}notices", f"{BASE}notices/{{reference}}"
    proof, batches, batch = f"{notice}/proof", f"{BASE}batches", f"{BASE}batches/{{reference}}"

    sent = sender.send(citizen.national_code, attachments=[{"name": "a.pdf", "content": b64(PDF)}])
    contract.check(notices, "post", sent)
    assert sent.status_code == 201
    contract.check(notices, "post", sender.send(citizen.national_code))  # 200: the same again
    other = sender.send(citizen.national_code, subject="another")
    assert other.status_code == 409
    contract.check(notices, "post", other)
    unknown = sender.send(national_code(), key="k-unknown")
    assert unknown.status_code == 422
    contract.check(notices, "post", unknown)
    contract.check(notices, "post", sender.send("123", key="k-bad"))  # 400 bad_national_code
    with override_settings(PANJEREH_MAILBOX_MAX_REQUEST_BYTES=500):
        big = sender.send(citizen.national_code, key="k-big", body="x" * 600)
    assert big.status_code == 413
    contract.check(notices, "post", big)
    registries.down = True
    down = sender.send(national_code(), key="k-down")
    assert down.status_code == 503
    contract.check(notices, "post", down)
    registries.down = False
    missing = client.post(notices, data="{}", content_type="application/json")
    assert missing.status_code == 400 and missing.json()["code"] == "missing_client"
    contract.check(notices, "post", missing)
    wrong = client.get(
        f"{BASE}notices/x",
        HTTP_X_ROAD_CLIENT=sender.system.client_id,
        HTTP_AUTHORIZATION="Bearer not-a-jwt",
    )
    assert wrong.status_code == 401
    contract.check(notice, "get", wrong)
    contract.check(notices, "post", sender.get("notices"))  # 405: GET on a POST address

    reference = sent.json()["id"]
    contract.check(notice, "get", sender.get(f"notices/{reference}"))
    contract.check(notice, "get", sender.get("notices/N0000NOSUCH"))  # 404
    jws = sender.get(f"notices/{reference}/proof")
    assert jws["Content-Type"] == "application/jose"
    contract.check(proof, "get", jws)
    paper = sender.get(f"notices/{reference}/proof?format=pdf")
    assert paper.status_code == 200 and paper["Content-Type"] == "application/pdf"
    assert paper["Content-Type"] in document["paths"][proof]["get"]["responses"]["200"]["content"]

    items = [
        {"to": {"national_code": citizen.national_code}, "subject": "s", "body": "b"},
        {"to": {"national_code": national_code()}, "subject": "s", "body": "b"},
    ]
    queued = sender.post("batches", {"items": items}, key="b-1")
    assert queued.status_code == 202
    contract.check(batches, "post", queued)
    contract.check(batches, "post", sender.post("batches", {"items": []}, key="b-2"))  # 400
    process_items()
    done = sender.get(f"batches/{queued.json()['id']}")
    assert done.json()["failed"] == 1 and done.json()["failures"][0]["item"] == 2
    contract.check(batch, "get", done)
    contract.check(batch, "get", sender.get("batches/B0000NOSUCH"))  # 404
    with override_settings(PANJEREH_MAILBOX_AGENCY_PER_MINUTE=0):
        over = sender.get(f"notices/{reference}")
    assert over.status_code == 429 and over.json()["code"] == "over_quota"
    contract.check(notice, "get", over)

    assert {status for _p, _m, status in contract.seen} >= {
        "200",
        "201",
        "202",
        "400",
        "401",
        "404",
        "405",
        "409",
        "413",
        "422",
        "429",
        "503",
    }
