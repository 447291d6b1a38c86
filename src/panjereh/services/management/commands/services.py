"""``panjereh services …``: definitions, exchange provisioning, submitting, documents.

- ``load-definitions [--dir DIR]``: validate and load the definition files (refusals listed);
- ``provision``: consumer systems and approved grants for every active definition (demo);
- ``submit CODE --national-code N [--input k=v] [--key K]``: submit as a citizen;
- ``status TRACKING``: the application's state and journey as JSON;
- ``verify-document FILE --jwks URL|FILE [--status-list URL|FILE|auto]``: offline verification
  of a document or token; with a status list (``auto``: the one the document names) also
  whether it was revoked;
- ``revoke NUMBER --reason TEXT`` and ``rotate-key AGENCY``.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import httpx
from django.core.management.base import BaseCommand, CommandError

from panjereh.catalogue.models import Agency
from panjereh.services import definitions as loader


class Command(BaseCommand):
    help = "Smart services: load definitions, provision, submit, verify documents."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load-definitions")
        load.add_argument("--dir", default=str(loader.DEFINITIONS_DIR))
        sub.add_parser("provision")
        submit = sub.add_parser("submit")
        submit.add_argument("code")
        submit.add_argument("--national-code", required=True)
        submit.add_argument("--input", action="append", default=[])
        submit.add_argument("--key", default="")
        status = sub.add_parser("status")
        status.add_argument("tracking_code")
        verify = sub.add_parser("verify-document")
        verify.add_argument("file")
        verify.add_argument("--jwks", required=True)
        verify.add_argument(
            "--status-list",
            default="",
            help="the issuing agency's status list (URL or file), or 'auto' for the address "
            "the document names; without it revocation is not checked",
        )
        revoke = sub.add_parser("revoke")
        revoke.add_argument("number")
        revoke.add_argument("--reason", required=True)
        rotate = sub.add_parser("rotate-key")
        rotate.add_argument("agency")

    def handle(self, *args, action, **options):
        getattr(self, "do_" + action.replace("-", "_"))(**options)

    def do_load_definitions(self, dir, **_):
        result = loader.load(Path(dir))
        for code in result.loaded:
            self.stdout.write(f"loaded {code}")
        for name, problems in result.refused.items():
            self.stderr.write(f"REFUSED {name}:")
            for problem in problems:
                self.stderr.write(f"  - {problem}")
        self.stdout.write(
            f"{len(result.loaded)} loaded, {len(result.unchanged)} unchanged, "
            f"{len(result.refused)} refused"
        )
        if result.refused:
            raise CommandError("some definitions were refused")

    def do_provision(self, **_):
        from panjereh.services.models import ServiceDefinition
        from panjereh.services.nix import provision

        for definition in ServiceDefinition.objects.filter(active=True).select_related(
            "agency", "service"
        ):
            provision(definition, resolution_number="1404/demo")
            self.stdout.write(f"provisioned {definition.code} for {definition.agency.code}")

    def do_submit(self, code, national_code, input, key, **_):
        from django.contrib.auth import get_user_model

        from panjereh.services import engine

        user = get_user_model().objects.filter(national_code=national_code).first()
        if user is None:
            raise CommandError("no user with this national code")
        inputs = dict(item.split("=", 1) for item in input)
        application, created = engine.submit(
            loader.active(code), user, idempotency_key=key or uuid.uuid4().hex, inputs=inputs
        )
        self.stdout.write(
            json.dumps({"tracking_code": application.tracking_code, "created": created})
        )

    def do_status(self, tracking_code, **_):
        from panjereh.services.models import Application

        application = Application.objects.filter(tracking_code=tracking_code).first()
        if application is None:
            raise CommandError("no such application")
        out = {
            "tracking_code": application.tracking_code,
            "state": application.state,
            "waiting_for": application.waiting_for,
            "document": getattr(getattr(application, "document", None), "number", None),
            "events": [
                [e.kind, e.to_state, e.text_en] for e in application.events.order_by("at", "pk")
            ],
        }
        self.stdout.write(json.dumps(out, ensure_ascii=False))

    def do_verify_document(self, file, jwks, status_list="", **_):
        from panjereh.services.documents import check_status, token_from_file, verify_signature

        token = token_from_file(Path(file).read_bytes())
        data = json.loads(_read(jwks))
        result = verify_signature(token, data)
        reference = (result.claims.get("status") or {}).get("status_list") or {}
        if status_list and reference:
            where = reference.get("uri", "") if status_list == "auto" else status_list
            try:
                listed = _read(where)
            except (OSError, httpx.HTTPError) as exc:
                raise CommandError(f"cannot read the status list {where}: {exc}") from exc
            result = check_status(result, listed, data)
        elif reference and result.status in ("valid", "expired"):
            self.stderr.write(
                "revocation not checked: pass --status-list auto (or the list "
                f"{reference.get('uri')} saved earlier)"
            )
        self.stdout.write(result.message_fa)
        self.stdout.write(result.message_en)
        if result.claims:
            self.stdout.write(
                json.dumps(
                    {k: result.claims.get(k) for k in ("num", "iss", "typ", "sub", "title_fa")},
                    ensure_ascii=False,
                )
            )
        if not result.ok:
            sys.exit(1)

    def do_revoke(self, number, reason, **_):
        from panjereh.services.documents import revoke
        from panjereh.services.models import Document

        document = Document.objects.filter(number=number).first()
        if document is None:
            raise CommandError("no such document")
        revoke(document, reason)
        self.stdout.write(f"revoked {number}")

    def do_rotate_key(self, agency, **_):
        from panjereh.services import keys

        row = keys.rotate(Agency.objects.get(code=agency))
        self.stdout.write(f"new signing key {row.kid}")


def _read(where: str) -> str:
    """A file's text, or a URL's body."""
    if where.startswith(("http://", "https://")):
        response = httpx.get(where, timeout=10, trust_env=False)
        response.raise_for_status()
        return response.text
    return Path(where).read_text()
