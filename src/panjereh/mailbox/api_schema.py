"""The mailbox machine API in the OpenAPI document (``make openapi``, drf-spectacular).

The API's views are plain Django views (``api.py``): they authenticate as the exchange gateway
does and answer JSON themselves, so their behaviour is exactly what ``tests/mailbox/test_api.py``
tests. drf-spectacular describes only Django REST framework views; each mailbox view is
therefore paired here with a *description class* (an ``APIView`` whose methods only hand the
request to the plain view; the URL calls the plain view itself) whose ``extend_schema`` gives the request and answer bodies,
headers, errors and the security scheme. :func:`documented` attaches the class to the view
the way ``APIView.as_view()`` does (``view.cls``), which is all the schema generator reads.

The document is kept honest by ``tests/mailbox/test_openapi.py``: every mailbox address is in
it, and real answers of the API (notices, statuses, batches, errors) validate against its
schemas; the API fuzz (``tests/test_api_fuzz.py``) calls its GET operations too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from . import api
from .models import Batch, State

TAG = "mailbox"

# Every error code the API answers (docs/mailbox.md, "Errors").
ERROR_CODES = [
    # the exchange gateway's authentication (exchange.gateway.authenticate)
    "missing_client",
    "unknown_client",
    "missing_assertion",
    "bad_assertion",
    "expired_assertion",
    "replayed_assertion",
    "rate_limited",
    # the mailbox's own
    "over_quota",
    "missing_idempotency_key",
    "idempotency_conflict",
    "bad_request",
    "missing_field",
    "bad_field",
    "field_too_long",
    "bad_input",
    "bad_national_code",
    "bad_national_id",
    "unknown_addressee",
    "too_many_attachments",
    "bad_attachment",
    "bad_attachment_type",
    "attachment_too_large",
    "request_too_large",
    "bad_batch_size",
    "not_found",
    "method_not_allowed",
    "registry_unavailable",
]


class ExchangeMemberAuthentication(BaseAuthentication):
    """An agency system authenticated as an exchange member: ``X-Road-Client`` and a client
    assertion (``Authorization: Bearer``), checked by the gateway's own
    ``exchange.gateway.authenticate`` (signature against the system's registered keys, one
    use per assertion, the system's rate limit). Named on the description classes so the
    document carries the security scheme; usable by any DRF view of a machine API."""

    def authenticate(self, request):
        from panjereh.exchange import gateway

        try:
            system = gateway.authenticate(request._request)
        except gateway.Refusal as refusal:
            from rest_framework.exceptions import AuthenticationFailed

            raise AuthenticationFailed(refusal.message, code=refusal.code) from None
        return (None, system)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="exchange"'


class ExchangeMemberScheme(OpenApiAuthenticationExtension):
    """Two headers that go together (both required): the member system and its assertion."""

    target_class = "panjereh.mailbox.api_schema.ExchangeMemberAuthentication"
    name = ["exchangeClient", "clientAssertion"]

    def get_security_definition(self, auto_schema) -> list[dict[str, Any]]:
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-Road-Client",
                "description": (
                    "The sending system as an exchange member: "
                    "`IR/GOV/<member code>/<subsystem>` (a ConsumerSystem of the exchange, "
                    "docs/exchange.md)."
                ),
            },
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": (
                    "A client assertion: a JWT signed with one of the system's registered keys, "
                    "`iss` and `sub` the X-Road-Client, `aud` `urn:panjereh:nix`, `iat`, `exp` "
                    "(a lifetime of at most PANJEREH_EXCHANGE_ASSERTION_MAX_LIFETIME, 300 s) "
                    "and a fresh `jti`: each assertion is good for one request, a replay is "
                    "refused (`exchange.client.make_assertion` makes one)."
                ),
            },
        ]


# -- bodies ------------------------------------------------------------------------------------


class MailboxAddresseeSerializer(serializers.Serializer):
    national_code = serializers.RegexField(
        r"^[0-9]{10}$",
        required=False,
        help_text="A person: 10 digits with a valid check digit.",
    )
    national_id = serializers.RegexField(
        r"^[0-9]{11}$",
        required=False,
        help_text="A company (a legal person the company registry knows): 11 digits.",
    )


class MailboxAttachmentSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="A file name without slashes.")
    content = serializers.CharField(
        help_text=(
            "The file, base64. PDF, PNG or JPEG checked by its content, at most "
            "PANJEREH_MAILBOX_MAX_ATTACHMENT_BYTES (1,000,000) decoded."
        )
    )


class MailboxNoticeRequestSerializer(serializers.Serializer):
    to = MailboxAddresseeSerializer(help_text="Exactly one of national_code, national_id.")
    subject = serializers.CharField(max_length=300, help_text="No control characters.")
    body = serializers.CharField(max_length=20_000, help_text="No control characters.")
    attachments = MailboxAttachmentSerializer(
        many=True, required=False, max_length=5, help_text="At most 5 (MAX_ATTACHMENTS)."
    )
    callback_url = serializers.URLField(
        required=False,
        max_length=500,
        help_text="Where signed status reports are POSTed (https:// in production).",
    )


class MailboxNoticeStatusSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The notice's reference.")
    status = serializers.ChoiceField(choices=State.choices)
    to = serializers.DictField(
        child=serializers.CharField(),
        help_text='{"person": "<national code>"} or {"company": "<national ID>"}.',
    )
    created_at = serializers.DateTimeField()
    made_available_at = serializers.DateTimeField(allow_null=True)
    opened_at = serializers.DateTimeField(allow_null=True)
    served_at = serializers.DateTimeField(allow_null=True)
    served_by = serializers.ChoiceField(choices=["opened", "deemed"], allow_null=True)
    deemed_served_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the served rule will serve it if not opened first (while not served).",
    )
    failed_reason = serializers.CharField(allow_null=True)
    alerted = serializers.IntegerField(
        help_text="How many people got the SMS alert (a company's representatives)."
    )


class MailboxBatchRequestSerializer(serializers.Serializer):
    items = MailboxNoticeRequestSerializer(
        many=True, min_length=1, max_length=100_000, help_text="1 to BULK_MAX_ITEMS notices."
    )
    callback_url = serializers.URLField(required=False, max_length=500)


class MailboxBatchFailureSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="The item's number, from 1.")
    error = serializers.CharField()


class MailboxBatchStatusSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.ChoiceField(choices=Batch.Status.choices)
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    made_available = serializers.IntegerField()
    failed = serializers.IntegerField()
    failures = MailboxBatchFailureSerializer(many=True, help_text="The first 100 refused items.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class MailboxErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ERROR_CODES)
    message = serializers.CharField(help_text="In the language of Accept-Language (fa or en).")


class MailboxRefusedInputSerializer(serializers.Serializer):
    """The window's bad-input guard (``common.badinput``), which answers before the API for a
    NUL byte or text that is not UTF-8 in the address, query or headers, or a body too large."""

    error = serializers.ChoiceField(choices=["invalid_characters", "too_large", "too_many_fields"])
    detail = serializers.CharField()
    where = serializers.CharField()


# -- operations --------------------------------------------------------------------------------


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(MailboxErrorSerializer, description=description)


def _error_or_refused(description: str) -> OpenApiResponse:
    return OpenApiResponse(
        PolymorphicProxySerializer(
            component_name="MailboxErrorOrRefusedInput",
            serializers=[MailboxErrorSerializer, MailboxRefusedInputSerializer],
            resource_type_field_name=None,
        ),
        description=description,
    )


AUTH_ERRORS = {
    400: _error_or_refused(
        "Malformed request or header (missing_client, bad_input, …); a NUL byte or text that "
        "is not UTF-8 in the address, query or headers is refused before the API by the "
        'window\'s guard: `{"error": "invalid_characters", "detail": "…", "where": "path"}`.'
    ),
    401: _error("Not an authenticated exchange member (unknown_client, bad_assertion, …)."),
    405: _error("Method not allowed."),
    429: _error("rate_limited (the system's limit) or over_quota (the agency's quota)."),
}
LANGUAGE = OpenApiParameter(
    "Accept-Language",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    enum=["fa", "en"],
    description="The language of error messages.",
)
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "Up to 200 printable ASCII characters, per agency. The same key with the same body "
        "returns what was stored the first time (200); with another body, 409."
    ),
)
REFERENCE = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="The notice's id."
)
BATCH_REFERENCE = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="The bulk send's id."
)


class _Description(APIView):
    # Described, not served: the URL calls the plain view in ``api`` directly; each method here
    # hands a request to that same view, so the class cannot answer differently. (No docstring:
    # drf-spectacular would print it as the description of operations that give none.)

    authentication_classes = [ExchangeMemberAuthentication]
    permission_classes: list = []
    parser_classes = [JSONParser]


class NoticesDescription(_Description):
    @extend_schema(
        operation_id="mailbox_notice_send",
        summary="Send a notice to a person or a company",
        description=(
            "Every check runs first, then one transaction stores the notice (signed by the "
            "agency's key), its attachments, events, SMS alert and callback: nothing is "
            "half-sent. A person the civil registry knows who has not signed up yet gets the "
            "notice kept (`held`) until they sign in. See docs/mailbox.md."
        ),
        tags=[TAG],
        parameters=[IDEMPOTENCY, LANGUAGE],
        request=MailboxNoticeRequestSerializer,
        responses={
            201: OpenApiResponse(MailboxNoticeStatusSerializer, description="Accepted and signed."),
            200: OpenApiResponse(
                MailboxNoticeStatusSerializer,
                description="The same Idempotency-Key and body again.",
            ),
            **AUTH_ERRORS,
            409: _error("idempotency_conflict."),
            413: _error_or_refused("request_too_large or attachment_too_large; nothing stored."),
            422: _error("unknown_addressee; nothing stored."),
            503: _error("registry_unavailable; nothing stored, send again with the same key."),
        },
        examples=[
            OpenApiExample(
                "A hearing notice",
                request_only=True,
                value={
                    "to": {"national_code": "0012345679"},
                    "subject": "اخطاریه جلسه رسیدگی",
                    "body": "…",
                    "callback_url": "https://court.example/hooks/notices",
                },
            )
        ],
    )
    def post(self, request):  # pragma: no cover - the URL calls the plain view
        return api.notices(request._request)


class NoticeDescription(_Description):
    @extend_schema(
        operation_id="mailbox_notice_status",
        summary="A notice's delivery status",
        description=(
            "Only for the agency that sent it. The served rule is applied first, so a notice "
            "due for deemed service reads `served` at the rule's moment."
        ),
        tags=[TAG],
        parameters=[REFERENCE, LANGUAGE],
        responses={
            200: MailboxNoticeStatusSerializer,
            **AUTH_ERRORS,
            404: _error("not_found: no notice of the caller's agency with this id."),
        },
    )
    def get(self, request, reference):  # pragma: no cover - the URL calls the plain view
        return api.notice(request._request, reference)


class ProofDescription(_Description):
    @extend_schema(
        operation_id="mailbox_notice_proof",
        summary="The signed proof of service",
        description=(
            "A compact JWS (ES256, `typ` `panjereh-proof-of-service+jws`) signed by the "
            "window's operator, verifiable offline with `/services/jwks.json`; "
            "`?format=pdf` for the PDF carrying it."
        ),
        tags=[TAG],
        parameters=[
            REFERENCE,
            LANGUAGE,
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=False,
                enum=["pdf"],
                description="`pdf` for the PDF; the JWS otherwise.",
            ),
        ],
        responses={
            (200, "application/jose"): OpenApiResponse(
                OpenApiTypes.STR, description="The proof as a compact JWS."
            ),
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The proof as a PDF (with ?format=pdf)."
            ),
            **{
                (status, "application/json"): response
                for status, response in {
                    **AUTH_ERRORS,
                    404: _error("not_found: no notice of the caller's agency with this id."),
                }.items()
            },
        },
    )
    def get(self, request, reference):  # pragma: no cover - the URL calls the plain view
        return api.proof(request._request, reference)


class BatchesDescription(_Description):
    @extend_schema(
        operation_id="mailbox_batch_send",
        summary="Queue a bulk send (a court's daily list)",
        description=(
            "Every item is checked first (a malformed item refuses the whole request, "
            "'Item n: …'); the batch is stored and made available by the worker in chunks, "
            "rate-limited, never lost or duplicated. The body may be up to "
            "PANJEREH_MAILBOX_MAX_BATCH_BYTES (40,000,000)."
        ),
        tags=[TAG],
        parameters=[IDEMPOTENCY, LANGUAGE],
        request=MailboxBatchRequestSerializer,
        responses={
            202: OpenApiResponse(MailboxBatchStatusSerializer, description="Queued."),
            200: OpenApiResponse(
                MailboxBatchStatusSerializer, description="The same Idempotency-Key and body again."
            ),
            **AUTH_ERRORS,
            409: _error("idempotency_conflict."),
            413: _error_or_refused("request_too_large or attachment_too_large; nothing queued."),
        },
    )
    def post(self, request):  # pragma: no cover - the URL calls the plain view
        return api.batches(request._request)


class BatchDescription(_Description):
    @extend_schema(
        operation_id="mailbox_batch_status",
        summary="A bulk send's progress",
        tags=[TAG],
        parameters=[BATCH_REFERENCE, LANGUAGE],
        responses={
            200: MailboxBatchStatusSerializer,
            **AUTH_ERRORS,
            404: _error("not_found: no bulk send of the caller's agency with this id."),
        },
    )
    def get(self, request, reference):  # pragma: no cover - the URL calls the plain view
        return api.batch(request._request, reference)


def documented(view: Callable[..., Any], description: type[APIView]) -> Callable[..., Any]:
    """``view`` unchanged, carrying ``description`` as ``APIView.as_view()`` would
    (``cls``, ``initkwargs``): the schema generator describes it; requests still go to
    ``view``."""
    view.cls = description  # type: ignore[attr-defined]
    view.initkwargs = {}  # type: ignore[attr-defined]
    return view
