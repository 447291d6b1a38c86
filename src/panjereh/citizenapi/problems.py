"""Errors of the citizen API as RFC 9457 problem details (``application/problem+json``).

Each has a machine ``code`` (stable, English, for the app's logic) and a ``title`` and
``detail`` in the language of ``Accept-Language`` (Persian by default), for the person.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response

PROBLEM = "application/problem+json"


class Problem(Exception):
    def __init__(self, status: int, code: str, title: str, detail: str = "", **extra) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail or title
        self.extra = extra


def response(problem: Problem, headers: dict | None = None) -> Response:
    body = {
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,
        **problem.extra,
    }
    return Response(body, status=problem.status, content_type=PROBLEM, headers=headers)


def not_found() -> Problem:
    # The same answer for another person's object and for one that does not exist.
    return Problem(404, "not_found", _("Not found"), _("There is nothing of yours here."))


def _errors(detail) -> dict:
    if isinstance(detail, dict):
        return {
            str(k): [str(v) for v in (vs if isinstance(vs, list) else [vs])]
            for k, vs in detail.items()
        }
    if isinstance(detail, list):
        return {"": [str(v) for v in detail]}
    return {"": [str(detail)]}


def handler(exc, context) -> Response | None:
    """The API's exception handler: every refusal as a problem."""
    headers = {}
    if isinstance(exc, Problem):
        problem = exc
        if problem.status == 429:
            headers["Retry-After"] = str(problem.extra.get("retry_after", 60))
    elif isinstance(exc, Http404 | exceptions.NotFound):
        problem = not_found()
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        problem = Problem(
            401,
            "not_authenticated",
            _("Sign in again"),
            _("The access token is missing, expired or revoked."),
        )
        headers["WWW-Authenticate"] = 'Bearer realm="panjereh", error="invalid_token"'
    elif isinstance(exc, exceptions.PermissionDenied):
        problem = Problem(
            403,
            "insufficient_scope",
            _("Not allowed"),
            _("This token was not issued for the window's app (scope “citizen”)."),
        )
        headers["WWW-Authenticate"] = (
            'Bearer realm="panjereh", error="insufficient_scope", scope="citizen"'
        )
    elif isinstance(exc, exceptions.MethodNotAllowed):
        problem = Problem(405, "method_not_allowed", _("This method is not allowed here."))
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        problem = Problem(415, "unsupported_media_type", _("Send the body as JSON."))
    elif isinstance(exc, exceptions.ParseError):
        problem = Problem(400, "bad_json", _("The request body is not valid JSON."))
    elif isinstance(exc, exceptions.ValidationError):
        problem = Problem(
            400,
            "invalid_request",
            _("Some of what was sent is not valid"),
            _("See the errors of each field."),
            errors=_errors(exc.detail),
        )
    elif isinstance(exc, exceptions.Throttled):
        problem = Problem(429, "too_many_requests", _("Too many requests; retry later."))
        headers["Retry-After"] = str(int(exc.wait or 60))
    elif isinstance(exc, exceptions.APIException):
        problem = Problem(exc.status_code, "error", str(exc.detail))
    else:
        return None
    return response(problem, headers)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, with the API's machine ``code``."""

    type = serializers.CharField(help_text="Always `about:blank`: the `code` says what it is.")
    title = serializers.CharField(help_text="A short title in the request's language.")
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What happened, in the request's language.")
    code = serializers.CharField(
        help_text="Machine code: not_authenticated, insufficient_scope, not_found, "
        "invalid_request, bad_json, request_too_large, missing_idempotency_key, "
        "idempotency_key_reused, duplicate_application, assurance_level_too_low, "
        "too_many_requests, method_not_allowed, unsupported_media_type."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="invalid_request: the errors of each field (the empty key: of the whole).",
    )
