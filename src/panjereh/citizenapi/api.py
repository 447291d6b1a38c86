"""The citizen API: the window's own mobile app reads and does what the signed-in pages do.

Authentication is the OpenID provider's access token (``Authorization: Bearer``, RFC 6750),
issued to the app's public client with PKCE (``citizenapi.client``) under the ``citizen``
scope; every answer is about the token's person only, and another person's object answers 404
like one that does not exist. Each person has a request budget a minute
(``panjereh.common.ratelimit``). Human text is in the language of ``Accept-Language``
(Persian by default) beside machine codes; errors are problem details (``problems``).
docs/api.md, "Citizen API", is the guide.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from panjereh.common import ratelimit
from panjereh.common.conf import setting
from panjereh.common.drain import refuse_unread
from panjereh.common.templatetags.persian import digits
from panjereh.identity.oidc import CITIZEN_SCOPE
from panjereh.mailbox import operations as mailbox
from panjereh.services import engine

from . import problems, reads
from .problems import Problem, ProblemSerializer

MAX_BODY = 64 * 1024  # an application's inputs are a few short texts
KEY_MAX = 80
MAX_LIMIT = 100


def per_minute() -> int:
    return int(setting("PANJEREH_CITIZENAPI_PER_MINUTE", 300))


def _english() -> bool:
    return (translation.get_language() or "fa").startswith("en")


def pick(fa: str, en: str) -> str:
    return (en or fa) if _english() else (fa or en)


def absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if url else ""


def mask(value: str, keep_start: int, keep_end: int) -> str:
    """``value`` with its middle hidden: 0912***4567."""
    value = value or ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


# -- authentication, scope, language, budget ----------------------------------------------------


class CitizenAuthentication(OAuth2Authentication):
    """The provider's access token (django-oauth-toolkit), in the Authorization header only:
    a token in a form body or the query string is not read."""

    www_authenticate_realm = "panjereh"

    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer "):
            return None
        return super().authenticate(request)


class CitizenScope(TokenHasScope):
    def get_scopes(self, request, view):
        return [CITIZEN_SCOPE]


class CitizenAuthScheme(OpenApiAuthenticationExtension):
    target_class = CitizenAuthentication
    name = "citizenApp"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": (
                "The window's OpenID provider, authorization code with PKCE (S256, required) "
                "for the public client `panjereh-app` (no secret), redirect URI "
                "`ir.gov.panjereh.app:/oauth/callback`. Refresh tokens rotate: each refresh "
                "returns a new one, and presenting a used one revokes the whole family."
            ),
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/oidc/authorize/",
                    "tokenUrl": "/oidc/token/",
                    "refreshUrl": "/oidc/token/",
                    "scopes": {
                        "openid": "OpenID Connect",
                        "profile": "Name",
                        CITIZEN_SCOPE: "Your applications, mailbox, documents and appointments",
                    },
                }
            },
        }

    def get_security_requirement(self, auto_schema):
        return {self.name: [CITIZEN_SCOPE]}


class Pages(LimitOffsetPagination):
    default_limit = 20
    max_limit = MAX_LIMIT

    def get_limit(self, request):
        return self._number(request, self.limit_query_param, self.default_limit, 1, MAX_LIMIT)

    def get_offset(self, request):
        return self._number(request, self.offset_query_param, 0, 0, 10**6)

    @staticmethod
    def _number(request, name, default, low, high) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        if not (raw.isascii() and raw.isdigit()) or not low <= int(raw[:9]) <= high:
            raise serializers.ValidationError(
                {
                    name: [
                        _("Enter a whole number from %(low)s to %(high)s.")
                        % {"low": digits(low), "high": digits(high)}
                    ]
                }
            )
        return int(raw)

    def get_paginated_response_schema(self, schema):
        link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "next": link,
                "previous": link,
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "description": f"Rows per page (1-{MAX_LIMIT}; default 20).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            },
            {
                "name": "offset",
                "required": False,
                "in": "query",
                "description": "Rows to skip (0-1000000).",
                "schema": {"type": "integer", "minimum": 0, "maximum": 10**6},
            },
        ]


def paged(item):
    """The schema of a page of ``item`` (a serializer class), named after it."""
    name = item.__name__.removesuffix("Serializer") + "Page"
    fields = {
        "count": serializers.IntegerField(min_value=0),
        "next": serializers.URLField(allow_null=True, help_text="The next page, or null."),
        "previous": serializers.URLField(allow_null=True, help_text="The previous page, or null."),
        "results": item(many=True),
    }
    return type(name + "Serializer", (serializers.Serializer,), fields)


def _problem_responses(*statuses: int) -> dict:
    described = {
        400: "Invalid parameters or body (`invalid_request`, `bad_json`, `missing_idempotency_key`).",
        401: "No access token, or one expired or revoked (`not_authenticated`).",
        403: "A token without the `citizen` scope (`insufficient_scope`), or a level too low.",
        404: "Not found, or not the person's: the same answer (`not_found`).",
        409: "An identical application was made a moment ago (`duplicate_application`).",
        413: "The body is larger than 64 KB (`request_too_large`).",
        415: "The body is not JSON (`unsupported_media_type`).",
        422: "The Idempotency-Key was used with another body (`idempotency_key_reused`).",
        429: "The person's budget of requests a minute is used up (`too_many_requests`).",
    }
    answers = {
        (status, problems.PROBLEM): OpenApiResponse(
            ProblemSerializer, description=described[status]
        )
        for status in statuses
    }
    if 400 in statuses:
        # Refused before the API (panjereh.common.badinput): a NUL byte, text that is not
        # UTF-8 or a lone surrogate anywhere in the request.
        answers[(400, "application/json")] = OpenApiResponse(
            OpenApiTypes.OBJECT,
            description='Bad characters, refused before the API: `{"error": '
            '"invalid_characters", "detail": "...", "where": "query"}`.',
        )
    return answers


READ = (400, 401, 403, 429)
ONE = (400, 401, 403, 404, 429)


class CitizenView(APIView):
    authentication_classes = [CitizenAuthentication]
    permission_classes = [CitizenScope]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    throttle_classes: list = []

    def get_exception_handler(self):
        return problems.handler

    def initialize_request(self, request, *args, **kwargs):
        language = translation.get_language_from_request(request, check_path=False)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        limit = ratelimit.Limit("citizen-api", limit=per_minute(), window=60, lockout=60)
        if ratelimit.hit(limit, f"person:{request.user.pk}"):
            raise Problem(
                429,
                "too_many_requests",
                _("Too many requests; retry later."),
                _("Your app has made too many requests this minute; retry in a minute."),
                retry_after=60,
            )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Language"] = translation.get_language() or settings.LANGUAGE_CODE
        response["Cache-Control"] = "no-store"
        response["Vary"] = "Accept-Language, Authorization"
        return response

    def page(self, request, rows, serializer_class, context=None):
        paginator = Pages()
        chunk = paginator.paginate_queryset(rows, request, view=self)
        data = serializer_class(
            chunk, many=True, context={"request": request, **(context or {})}
        ).data
        return paginator.get_paginated_response(data)


# -- serializers (the document's shapes) ----------------------------------------------------------


class MeCoded(serializers.Serializer):
    code = serializers.CharField(help_text="Machine value.")
    label = serializers.CharField(help_text="For the person, in the request's language.")


def coded(code: str, label) -> dict:
    return {"code": code, "label": str(label)}


class MeProfileSerializer(serializers.Serializer):
    name = serializers.CharField()
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    national_code_masked = serializers.CharField(
        help_text="The national code with all but its last three digits hidden."
    )
    mobile_masked = serializers.CharField(help_text="The mobile number with its middle hidden.")
    assurance_level = serializers.IntegerField(min_value=0, max_value=4)
    assurance_level_label = serializers.CharField()


class MeApplicationSerializer(serializers.Serializer):
    tracking_code = serializers.CharField()
    service = serializers.CharField(help_text="The service's code (as POST takes it).")
    title = serializers.CharField()
    agency = serializers.CharField()
    state = MeCoded()
    submitted_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    fee_rials = serializers.IntegerField(min_value=0)
    url = serializers.URLField(help_text="The application's page on the window (signed-in web).")

    def to_representation(self, app):
        return {
            "tracking_code": app.tracking_code,
            "service": app.definition.code,
            "title": pick(app.definition.title_fa, app.definition.title_en),
            "agency": pick(app.agency.name_fa, app.agency.name_en),
            "state": coded(app.state, app.get_state_display()),
            "submitted_at": app.submitted_at.isoformat(),
            "due_at": app.due_at.isoformat(),
            "completed_at": app.completed_at.isoformat() if app.completed_at else None,
            "fee_rials": app.fee_rials,
            "url": absolute(
                self.context["request"], reverse("services:detail", args=[app.tracking_code])
            ),
        }


class MeEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = MeCoded()
    text = serializers.CharField()


class MeApplicationDetailSerializer(MeApplicationSerializer):
    inputs = serializers.DictField(child=serializers.CharField())
    journey = MeEventSerializer(many=True)

    def to_representation(self, app):
        data = super().to_representation(app)
        data["inputs"] = {str(k): str(v) for k, v in (app.inputs or {}).items()}
        data["journey"] = [
            {
                "at": event.at.isoformat(),
                "kind": coded(event.kind, event.get_kind_display()),
                "text": pick(event.text_fa, event.text_en),
            }
            for event in reads.journey(app)
        ]
        return data


class MeInputSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    required = serializers.BooleanField()
    max_length = serializers.IntegerField()


class MeServiceSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    agency = serializers.CharField()
    assurance_level = serializers.IntegerField()
    fee_rials = serializers.IntegerField(allow_null=True)
    inputs = MeInputSerializer(many=True)
    needs_files = serializers.BooleanField(
        help_text="True: the service asks for files, which only the web form takes."
    )

    def to_representation(self, definition):
        spec = definition.spec or {}
        return {
            "code": definition.code,
            "title": pick(definition.title_fa, definition.title_en),
            "agency": pick(definition.agency.name_fa, definition.agency.name_en),
            "assurance_level": definition.assurance_level,
            "fee_rials": spec.get("fee_rials"),
            "inputs": [
                {
                    "code": item["code"],
                    "label": pick(item.get("label_fa", ""), item.get("label_en", ""))
                    or item["code"],
                    "required": bool(item.get("required")),
                    "max_length": int(item.get("max_length", 200)),
                }
                for item in spec.get("inputs", [])
                if item.get("code")
            ],
            "needs_files": any(
                item.get("required", True) for item in spec.get("uploads", []) if item.get("code")
            ),
        }


class MeApplyRequest(serializers.Serializer):
    service = serializers.CharField(max_length=80, help_text="The service's code (GET services/).")
    inputs = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        help_text="The service's inputs by code.",
    )
    confirm_duplicate = serializers.BooleanField(
        required=False,
        default=False,
        help_text="True to make a second application identical to a recent one.",
    )


class MeMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = MeCoded()
    subject = serializers.CharField()
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()

    def to_representation(self, item):
        return {
            "id": item.pk,
            "kind": coded(item.kind, item.get_kind_display()),
            "subject": pick(item.subject_fa, item.subject_en),
            "created_at": item.created_at.isoformat(),
            "read": item.read_at is not None,
        }


class MeMessageDetailSerializer(MeMessageSerializer):
    body = serializers.CharField()
    link_url = serializers.CharField(allow_blank=True)
    link_label = serializers.CharField(allow_blank=True)
    document_url = serializers.CharField(allow_blank=True)

    def to_representation(self, item):
        data = super().to_representation(item)
        request = self.context["request"]
        data.update(
            {
                "body": pick(item.body_fa, item.body_en),
                "link_url": absolute(request, item.link_url),
                "link_label": pick(item.link_label_fa, item.link_label_en),
                "document_url": absolute(request, item.document_url),
            }
        )
        return data


class MeNoticeSerializer(serializers.Serializer):
    reference = serializers.CharField()
    subject = serializers.CharField(help_text="As the agency wrote it (Persian).")
    sender = serializers.CharField()
    state = MeCoded()
    made_available_at = serializers.DateTimeField(allow_null=True)
    opened_at = serializers.DateTimeField(allow_null=True)
    served_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, notice):
        def iso(value):
            return value.isoformat() if value else None

        return {
            "reference": notice.reference,
            "subject": notice.subject,
            "sender": pick(notice.agency.name_fa, notice.agency.name_en),
            "state": coded(notice.state, notice.get_state_display()),
            "made_available_at": iso(notice.made_available_at),
            "opened_at": iso(notice.opened_at),
            "served_at": iso(notice.served_at),
        }


class MeAttachmentSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()


class MeNoticeDetailSerializer(MeNoticeSerializer):
    deemed_served_at = serializers.DateTimeField(
        allow_null=True, help_text="When it counts as served if not opened first."
    )
    text = serializers.CharField(
        allow_null=True,
        help_text="The notice's text: null until opened (POST …/opened/), which is the legal "
        "receipt.",
    )
    attachments = MeAttachmentSerializer(many=True)

    def to_representation(self, notice):
        data = super().to_representation(notice)
        deemed = mailbox.deemed_at(notice) if notice.served_at is None else None
        opened = notice.opened_at is not None
        data.update(
            {
                "deemed_served_at": deemed.isoformat() if deemed else None,
                "text": notice.body if opened else None,
                "attachments": [
                    {
                        "position": a.position,
                        "name": a.name,
                        "content_type": a.content_type,
                        "size": a.size,
                    }
                    for a in notice.attachments.only("position", "name", "content_type", "size")
                ]
                if opened
                else [],
            }
        )
        return data


class MeDocumentSerializer(serializers.Serializer):
    reference = serializers.CharField()
    kind = MeCoded()
    title = serializers.CharField()
    issuer = serializers.CharField()
    number = serializers.CharField()
    issued_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    status = MeCoded(help_text="valid, revoked or expired (checked against the status lists).")
    verify_url = serializers.URLField()
    token_url = serializers.URLField(help_text="The signed token (compact JWS) through this API.")
    pdf_url = serializers.URLField(
        allow_null=True, help_text="The PDF through this API, or null when there is none."
    )

    def to_representation(self, doc):
        request = self.context["request"]
        return {
            "reference": doc.reference,
            "kind": coded(doc.kind, doc.kind_label),
            "title": doc.title,
            "issuer": doc.issuer,
            "number": doc.number,
            "issued_at": doc.issued_at.isoformat(),
            "expires_at": doc.expires_at.isoformat() if doc.expires_at else None,
            "status": coded(doc.status, doc.status_label),
            "verify_url": absolute(request, doc.verify_url),
            "token_url": absolute(
                request, reverse("citizenapi:document-token", args=[doc.reference])
            ),
            "pdf_url": absolute(request, reverse("citizenapi:document-pdf", args=[doc.reference]))
            if doc.pdf_url
            else None,
        }


class MeAppointmentSerializer(serializers.Serializer):
    reference = serializers.CharField()
    office = serializers.CharField()
    agency = serializers.CharField()
    address = serializers.CharField(allow_blank=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    state = MeCoded()

    def to_representation(self, booking):
        office = booking.office
        return {
            "reference": booking.reference,
            "office": pick(office.name_fa, office.name_en),
            "agency": pick(office.agency.name_fa, office.agency.name_en),
            "address": pick(office.address_fa, office.address_en),
            "starts_at": booking.slot.starts_at.isoformat(),
            "ends_at": booking.slot.ends_at.isoformat(),
            "state": coded(booking.state, booking.get_state_display()),
        }


class MePaymentDueSerializer(serializers.Serializer):
    reference = serializers.CharField()
    title = serializers.CharField()
    amount_rials = serializers.IntegerField(min_value=0)
    url = serializers.URLField(help_text="Where to pay on the window (signed-in web).")

    def to_representation(self, due):
        return {
            "reference": due.reference,
            "title": due.title,
            "amount_rials": due.amount_rials,
            "url": absolute(self.context["request"], due.url),
        }


# -- views ---------------------------------------------------------------------------------------

TAG = ["citizen"]
PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        OpenApiParameter.QUERY,
        description=f"Rows per page (1-{MAX_LIMIT}; default 20).",
    ),
    OpenApiParameter(
        "offset",
        {"type": "integer", "minimum": 0, "maximum": 10**6},
        OpenApiParameter.QUERY,
        description="Rows to skip (0-1000000).",
    ),
]


class ProfileView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_profile",
        summary="The signed-in person",
        responses={200: MeProfileSerializer, **_problem_responses(401, 403, 429)},
    )
    def get(self, request):
        user = request.user
        return Response(
            {
                "name": user.get_full_name(),
                "given_name": user.first_name,
                "family_name": user.last_name,
                "national_code_masked": mask(user.national_code or "", 0, 3),
                "mobile_masked": mask(user.mobile or "", 4, 4),
                "assurance_level": user.assurance_level,
                "assurance_level_label": _("Level %(n)s") % {"n": digits(user.assurance_level)},
            }
        )


def _idempotency_key(request) -> str:
    key = request.META.get("HTTP_IDEMPOTENCY_KEY", "").strip()
    if not key or len(key) > KEY_MAX or not (key.isascii() and key.isprintable()):
        raise Problem(
            400,
            "missing_idempotency_key",
            _("Send an Idempotency-Key header"),
            _("Send an Idempotency-Key header of 1 to 80 printable ASCII characters."),
        )
    return key


def _same_request(existing, definition, clean: dict) -> bool:
    return existing.definition.code == definition.code and (existing.inputs or {}) == clean


class ApplicationsView(CitizenView):
    def initial(self, request, *args, **kwargs):
        if request.method == "POST":
            declared = request.META.get("CONTENT_LENGTH") or "0"
            if declared.isdigit() and int(declared) > MAX_BODY:
                self._refused_unread = True
                raise Problem(
                    413,
                    "request_too_large",
                    _("The request is too large"),
                    _("The request is larger than %(n)s bytes; nothing was sent.")
                    % {"n": digits(MAX_BODY)},
                )
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "_refused_unread", False):
            response = refuse_unread(request._request, response, MAX_BODY)
        return response

    @extend_schema(
        tags=TAG,
        operation_id="me_applications_list",
        parameters=PAGE_PARAMETERS,
        summary="My applications, newest first",
        responses={200: paged(MeApplicationSerializer), **_problem_responses(*READ)},
    )
    def get(self, request):
        return self.page(request, reads.applications(request.user), MeApplicationSerializer)

    @extend_schema(
        tags=TAG,
        operation_id="me_applications_create",
        summary="Apply to a smart service",
        description=(
            "Makes one application, as the web form does (`services.engine.submit`); the smart "
            "engine then runs it in the background. The `Idempotency-Key` header is required: "
            "the same key with the same body answers with the same application (201, header "
            "`Idempotent-Replayed: true`) and makes no second one; the same key with another "
            "body answers 422. A service that asks for files is applied for on the web."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="1 to 80 printable ASCII characters, new for each new application.",
            )
        ],
        request=MeApplyRequest,
        responses={
            201: MeApplicationDetailSerializer,
            **_problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429),
        },
    )
    def post(self, request):
        user = request.user
        key = _idempotency_key(request)
        body = MeApplyRequest(
            data=request.data if isinstance(request.data, dict) else {"": request.data}
        )
        body.is_valid(raise_exception=True)
        definition = reads.service(body.validated_data["service"])
        if definition is None:
            raise Problem(
                404, "not_found", _("Not found"), _("There is no active service with this code.")
            )
        inputs = body.validated_data.get("inputs") or {}
        existing = reads.application_by_key(user, key)
        if existing is not None:
            clean, _checked, _problems = engine.check_submission(definition, inputs, None)
            if not _same_request(existing, definition, clean):
                raise Problem(
                    422,
                    "idempotency_key_reused",
                    _("This Idempotency-Key was used for another request"),
                    _("Use a new Idempotency-Key for a new application."),
                )
            return self._answer(request, existing, replayed=True)
        if not user.national_code:
            raise Problem(403, "not_a_citizen", _("Only citizens apply here."))
        if user.assurance_level < definition.assurance_level:
            raise Problem(
                403,
                "assurance_level_too_low",
                _("Raise your level first"),
                _("This service needs level %(n)s; raise your level on the window.")
                % {"n": digits(definition.assurance_level)},
                required_level=definition.assurance_level,
            )
        try:
            application, created = engine.submit(
                definition,
                user,
                idempotency_key=reads.KEY_PREFIX + key,
                inputs=inputs,
                files={},
                allow_duplicate=body.validated_data.get("confirm_duplicate", False),
            )
        except engine.DuplicateApplication as exc:
            raise Problem(
                409,
                "duplicate_application",
                _("You made the same application a moment ago"),
                _("Send confirm_duplicate: true to make a second one."),
                existing=exc.existing.tracking_code,
            ) from None
        except engine.InvalidSubmission as exc:
            raise Problem(
                400,
                "invalid_request",
                _("Some of what was sent is not valid"),
                _("See the errors of each field."),
                errors={f"inputs.{k}": [v] for k, v in exc.problems.items()},
            ) from None
        except engine.SubmissionError:
            raise Problem(
                503, "unavailable", _("The application could not be stored. Please try again.")
            ) from None
        if not created:  # the same key raced in from another request
            return self._answer(request, application, replayed=True)
        return self._answer(request, application, replayed=False)

    def _answer(self, request, application, *, replayed: bool) -> Response:
        data = MeApplicationDetailSerializer(application, context={"request": request}).data
        response = Response(data, status=201)
        response["Location"] = request.build_absolute_uri(
            reverse("citizenapi:application", args=[application.tracking_code])
        )
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class ApplicationView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_applications_retrieve",
        summary="One of my applications, with its journey",
        responses={200: MeApplicationDetailSerializer, **_problem_responses(*ONE)},
    )
    def get(self, request, tracking_code: str):
        found = reads.application(request.user, tracking_code)
        if found is None:
            raise problems.not_found()
        return Response(MeApplicationDetailSerializer(found, context={"request": request}).data)


class ServicesView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_services_list",
        parameters=PAGE_PARAMETERS,
        summary="Smart services one can apply to, with their inputs",
        responses={200: paged(MeServiceSerializer), **_problem_responses(*READ)},
    )
    def get(self, request):
        return self.page(request, reads.services(), MeServiceSerializer)


class MessagesView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_messages_list",
        parameters=PAGE_PARAMETERS,
        summary="My inbox: the window's messages, newest first",
        responses={200: paged(MeMessageSerializer), **_problem_responses(*READ)},
    )
    def get(self, request):
        return self.page(request, reads.messages(request.user), MeMessageSerializer)


class MessageView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_messages_retrieve",
        summary="One inbox message (marked read, as on the web page)",
        responses={200: MeMessageDetailSerializer, **_problem_responses(*ONE)},
    )
    def get(self, request, pk: int):
        found = reads.message(request.user, pk)
        if found is None:
            raise problems.not_found()
        if found.read_at is None:
            type(found).objects.filter(pk=found.pk, read_at__isnull=True).update(
                read_at=timezone.now()
            )
            found.read_at = timezone.now()
        return Response(MeMessageDetailSerializer(found, context={"request": request}).data)


class NoticesView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_notices_list",
        parameters=PAGE_PARAMETERS,
        summary="My official notices (the official mailbox), newest first",
        responses={200: paged(MeNoticeSerializer), **_problem_responses(*READ)},
    )
    def get(self, request):
        return self.page(request, reads.notices(request.user), MeNoticeSerializer)


class NoticeView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_notices_retrieve",
        summary="One official notice; its text only once opened",
        description=(
            "Reading this does not open the notice: its `text` and `attachments` are given "
            "once it is opened (POST …/opened/), which records the legal receipt."
        ),
        responses={200: MeNoticeDetailSerializer, **_problem_responses(*ONE)},
    )
    def get(self, request, reference: str):
        found = reads.notice(request.user, reference)
        if found is None:
            raise problems.not_found()
        return Response(MeNoticeDetailSerializer(found[0], context={"request": request}).data)


class NoticeOpenedView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_notices_open",
        summary="Open a notice: the official mailbox's legal receipt",
        description=(
            "Records the opening exactly as the web page's does "
            "(`mailbox.operations.open_notice`): the first opening by the addressee sets "
            "`opened_at` and, under the rule, serves the notice; opening again changes nothing. "
            "Answers the notice with its text."
        ),
        request=None,
        responses={200: MeNoticeDetailSerializer, **_problem_responses(*ONE)},
    )
    def post(self, request, reference: str):
        found = reads.notice(request.user, reference)
        if found is None:
            raise problems.not_found()
        notice, who = found
        opened = mailbox.open_notice(notice, who)
        return Response(MeNoticeDetailSerializer(opened, context={"request": request}).data)


class DocumentsView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_documents_list",
        parameters=PAGE_PARAMETERS,
        summary="My documents: every signed document I hold, with its status",
        responses={200: paged(MeDocumentSerializer), **_problem_responses(*READ)},
    )
    def get(self, request):
        return self.page(request, reads.documents(request.user), MeDocumentSerializer)


class DocumentView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_documents_retrieve",
        summary="One of my documents",
        responses={200: MeDocumentSerializer, **_problem_responses(*ONE)},
    )
    def get(self, request, reference: str):
        found = reads.document(request.user, reference)
        if found is None:
            raise problems.not_found()
        return Response(MeDocumentSerializer(found, context={"request": request}).data)


class DocumentTokenView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_documents_token",
        summary="Download one of my documents as its signed token (compact JWS)",
        description="Verify it offline with the keys at /services/jwks.json.",
        responses={
            (200, "application/jose"): OpenApiResponse(OpenApiTypes.STR, description="The JWS."),
            **_problem_responses(*ONE),
        },
    )
    def get(self, request, reference: str):
        found = reads.document(request.user, reference)
        if found is None:
            raise problems.not_found()
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", found.reference)
        response = HttpResponse(found.token, content_type="application/jose")
        response["Content-Disposition"] = f'attachment; filename="{safe}.jws"'
        return response


class DocumentPdfView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_documents_pdf",
        summary="Download one of my documents as a PDF, where the window makes one",
        description=(
            "The same PDF as the signed-in web page's download (the issuing app's own view, "
            "which checks the holder again); 404 for a document without a PDF (`pdf_url` null)."
        ),
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
            **_problem_responses(*ONE),
        },
    )
    def get(self, request, reference: str):
        found = reads.document(request.user, reference)
        if found is None or not found.pdf_url:
            raise problems.not_found()
        try:
            match = resolve(urlsplit(found.pdf_url).path)
        except Resolver404:
            raise problems.not_found() from None
        inner = request._request
        inner.user = request.user  # the token's person, as the web page's signed-in one
        response = match.func(inner, *match.args, **match.kwargs)
        if response.status_code != 200 or response.get("Content-Type") != "application/pdf":
            raise problems.not_found()
        return response


class AppointmentsView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_appointments_list",
        parameters=PAGE_PARAMETERS,
        summary="My appointments, latest first",
        responses={200: paged(MeAppointmentSerializer), **_problem_responses(*READ)},
    )
    def get(self, request):
        return self.page(request, reads.appointments(request.user), MeAppointmentSerializer)


class AppointmentView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_appointments_retrieve",
        summary="One of my appointments",
        responses={200: MeAppointmentSerializer, **_problem_responses(*ONE)},
    )
    def get(self, request, reference: str):
        found = reads.appointment(request.user, reference)
        if found is None:
            raise problems.not_found()
        return Response(MeAppointmentSerializer(found, context={"request": request}).data)


class PaymentsDueView(CitizenView):
    @extend_schema(
        tags=TAG,
        operation_id="me_payments_due_list",
        parameters=PAGE_PARAMETERS,
        summary="What I have to pay",
        responses={200: paged(MePaymentDueSerializer), **_problem_responses(*READ)},
    )
    def get(self, request):
        return self.page(request, reads.payments_due(request.user), MePaymentDueSerializer)


def not_found_anywhere(request, rest=""):
    """Any other address under the API: a problem, 404."""
    body = {
        "type": "about:blank",
        "title": _("Not found"),
        "status": 404,
        "detail": _("There is no such address in the citizen API."),
        "code": "not_found",
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=404, content_type=problems.PROBLEM
    )
