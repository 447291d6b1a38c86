"""Public, read-only catalogue API: agencies, service identity cards and headline figures.

Anonymous and rate-limited (DRF's anon throttle). Search uses the same Persian-aware index as
the portal, so the API and the pages find the same services for the same words.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from panjereh.common import jalali
from panjereh.common.persian import digits_only

from . import queries, search
from .models import Agency, Service
from .vocab import (
    AgencyKind,
    Category,
    Channel,
    ConnectionForm,
    ConnectionStatus,
    ElectronificationLevel,
    LifeEvent,
    Recipient,
    Scope,
    ServiceLevel,
    SmartStatus,
)

# -- answers other than 200, as every endpoint gives them ------------------------------------

BAD_REQUEST = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=(
        "A parameter is invalid: the body maps each parameter to its errors, e.g. "
        '`{"limit": ["Ensure this value is less than or equal to 500."]}`. A request with a '
        "NUL byte or text that is not UTF-8 anywhere is refused before it reaches the API: "
        '`{"error": "invalid_characters", "detail": "...", "where": "query"}`.'
    ),
)
NOT_FOUND = OpenApiResponse(OpenApiTypes.OBJECT, description='Not found: `{"detail": "..."}`.')

MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1  # beyond any catalogue; keeps the database's 64-bit integers safe


class PageParameters(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_LIMIT, help_text="Rows per page (1-500)."
    )
    offset = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_OFFSET, help_text="Rows to skip."
    )


class CataloguePagination(LimitOffsetPagination):
    """Limit/offset pages whose parameters are validated: a limit or offset that is not an
    integer in range answers 400 with the field's error (DRF's own would ignore a malformed
    value and pass 2**63 on to the database)."""

    default_limit = 50
    max_limit = MAX_LIMIT

    def paginate_queryset(self, queryset, request, view=None):
        params = PageParameters(data=request.query_params)
        params.is_valid(raise_exception=True)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response_schema(self, schema):
        """DRF's own says ``nullable: true`` (OpenAPI 3.0), which OpenAPI 3.1 ignores."""
        link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "next": {**link, "description": "The next page, or null on the last."},
                "previous": {**link, "description": "The previous page, or null on the first."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "description": "Rows per page (1-500; default 50).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            },
            {
                "name": "offset",
                "required": False,
                "in": "query",
                "description": "Rows to skip (0 or more).",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            },
        ]


def _validated(serializer_class, request) -> dict:
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data


# -- headline figures --------------------------------------------------------------------------

JALALI_PATTERN = r"^[0-9۰-۹٠-٩]{4}[-/][0-9۰-۹٠-٩]{1,2}[-/][0-9۰-۹٠-٩]{1,2}$"


@extend_schema_field(
    {"type": "string", "pattern": JALALI_PATTERN, "maxLength": 10, "example": "1404-03-31"},
)
class JalaliDateField(serializers.CharField):
    """A Jalali date, year-month-day, in Latin, Persian or Arabic digits (`1404-03-31`,
    `۱۴۰۴/۰۳/۳۱`)."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if len(text) > 10:
            raise ValidationError(_("Enter a Jalali date such as 1404-03-31."))
        try:
            return jalali.parse(text)
        except jalali.InvalidJalaliDate as error:
            raise ValidationError(_("Enter a Jalali date such as 1404-03-31.")) from error


class StatsParameters(serializers.Serializer):
    as_of = JalaliDateField(
        required=False,
        help_text="Jalali date, e.g. 1404-03-31: the figures as at the end of that day.",
    )


class StatsSerializer(serializers.Serializer):
    as_of = serializers.CharField(
        allow_null=True, help_text="The Jalali date asked for, or null for now."
    )
    agencies = serializers.DictField()
    services = serializers.DictField()
    connection_buckets = serializers.DictField()
    smart_buckets = serializers.DictField()
    other_connected_entities = serializers.DictField()


class StatsView(APIView):
    """Headline catalogue figures computed from the rows, now or as of a Jalali date."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        parameters=[StatsParameters],
        responses={200: StatsSerializer, 400: BAD_REQUEST},
    )
    def get(self, request):
        as_of = _validated(StatsParameters, request).get("as_of")
        if as_of:
            result = queries.stats(jalali.end_of_day(as_of), jalali.iso(as_of))
        else:
            result = queries.stats()
        return Response(result.as_dict())


# -- agencies and service identity cards -------------------------------------------------------


class AgencySerializer(serializers.Serializer):
    code = serializers.CharField()
    name_fa = serializers.CharField()
    name_en = serializers.CharField(help_text="Empty when not given.")
    parent = serializers.CharField(
        source="parent.code", allow_null=True, help_text="The parent's code, or null."
    )
    kind = serializers.ChoiceField(AgencyKind.choices)
    in_scope = serializers.BooleanField()
    connection_status = serializers.ChoiceField(ConnectionStatus.choices)
    connection_form = serializers.ChoiceField(ConnectionForm.choices, allow_blank=True)
    own_window_url = serializers.CharField(help_text="A URL, or empty.")
    sso_integrated = serializers.BooleanField()
    member_class = serializers.CharField()
    member_code = serializers.CharField(help_text="Empty when not a member of the exchange.")
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class ServiceSerializer(serializers.Serializer):
    service_id = serializers.CharField(
        allow_null=True, help_text="Ten digits, the last a check digit; null until assigned."
    )
    agency = serializers.CharField(source="agency.code", help_text="The agency's code.")
    parent = serializers.CharField(
        source="parent.service_id",
        allow_null=True,
        help_text="The parent card's service ID (null: no parent, or one without an ID).",
    )
    level = serializers.ChoiceField(ServiceLevel.choices)
    title_fa = serializers.CharField()
    title_en = serializers.CharField()
    description_fa = serializers.CharField()
    description_en = serializers.CharField()
    recipients = serializers.ListField(child=serializers.ChoiceField(Recipient.choices))
    category = serializers.CharField(help_text=f"One of {', '.join(Category.values)} or empty.")
    life_events = serializers.ListField(child=serializers.CharField())
    channels = serializers.ListField(
        child=serializers.CharField(), help_text=f"Of {', '.join(Channel.values)}."
    )
    scope = serializers.ChoiceField(Scope.choices)
    connected = serializers.BooleanField()
    connection_form = serializers.ChoiceField(ConnectionForm.choices, allow_blank=True)
    electronification_level = serializers.ChoiceField(ElectronificationLevel.choices)
    smart_status = serializers.ChoiceField(SmartStatus.choices)
    min_assurance_level = serializers.IntegerField()
    fee = serializers.IntegerField(help_text="Rials.")
    target_minutes = serializers.IntegerField(allow_null=True)
    inputs = serializers.ListField(child=serializers.DictField())
    documents_required = serializers.ListField(child=serializers.JSONField())
    in_person_steps = serializers.ListField(child=serializers.JSONField())
    online_url = serializers.CharField(help_text="A URL, or empty.")
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


@extend_schema_view(
    list=extend_schema(responses={200: AgencySerializer(many=True), 400: BAD_REQUEST}),
    retrieve=extend_schema(responses={200: AgencySerializer, 400: BAD_REQUEST, 404: NOT_FOUND}),
)
class AgencyViewSet(viewsets.ReadOnlyModelViewSet):
    """Agencies and other bodies connected to the national window, looked up by code."""

    authentication_classes: list = []
    permission_classes: list = []
    serializer_class = AgencySerializer
    pagination_class = CataloguePagination
    lookup_field = "code"
    # The parent's code is in every row: join it rather than query per row.
    queryset = Agency.objects.select_related("parent").order_by("code")


class ServiceFilters(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Words or a service ID, in any script and digits (the first 200 characters).",
    )
    agency = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=60,
        help_text="Agency code (its subsidiaries included); an unknown code answers 404.",
    )
    recipient = serializers.ChoiceField(Recipient.choices, required=False, allow_blank=True)
    smart = serializers.BooleanField(
        required=False, default=False, help_text="Only approved smart services."
    )
    life_event = serializers.ChoiceField(LifeEvent.choices, required=False, allow_blank=True)


@extend_schema_view(
    list=extend_schema(
        parameters=[ServiceFilters],
        responses={200: ServiceSerializer(many=True), 400: BAD_REQUEST, 404: NOT_FOUND},
    ),
    retrieve=extend_schema(
        parameters=[
            OpenApiParameter(
                "service_id",
                str,
                OpenApiParameter.PATH,
                description="Ten digits, in Latin, Persian or Arabic digits.",
                pattern=r"^[0-9۰-۹٠-٩\- ]+$",
            )
        ],
        responses={200: ServiceSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    ),
)
class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """Service identity cards, looked up by service ID; searchable and filterable."""

    authentication_classes: list = []
    permission_classes: list = []
    serializer_class = ServiceSerializer
    pagination_class = CataloguePagination
    lookup_field = "service_id"
    lookup_value_regex = r"[0-9۰-۹٠-٩\- ]+"

    def get_queryset(self):
        base = Service.objects.select_related("agency", "parent")
        if self.action != "list":
            return base.order_by("agency_id", "service_id", "pk")
        filters = _validated(ServiceFilters, self.request)
        if not any(filters.get(k) for k in ("q", "agency", "recipient", "smart", "life_event")):
            return base.order_by("agency_id", "service_id", "pk")
        agency_pk = None
        if filters.get("agency"):
            agency_pk = get_object_or_404(Agency, code=filters["agency"]).pk
        result = search.search_services(
            (filters.get("q") or "")[:200],
            agency_pk=agency_pk,
            recipient=filters.get("recipient") or None,
            smart=filters.get("smart", False),
            life_event=filters.get("life_event") or None,
        )
        # Keep the search ranking: fetch the page's rows by key, in ranked order.
        return _Ranked(base, result.service_pks)

    def get_object(self):
        return get_object_or_404(
            Service.objects.select_related("agency", "parent"),
            service_id=digits_only(self.kwargs["service_id"])[:10],
        )


class _Ranked:
    """A ranked list of primary keys that paginates like a queryset, loading only one page."""

    def __init__(self, base, pks: list[int]):
        self.base, self.pks = base, pks

    def count(self) -> int:
        return len(self.pks)

    def __len__(self) -> int:
        return len(self.pks)

    def __getitem__(self, item):
        pks = self.pks[item] if isinstance(item, slice) else [self.pks[item]]
        rows = self.base.in_bulk(pks)
        ordered = [rows[pk] for pk in pks if pk in rows]
        return ordered if isinstance(item, slice) else ordered[0]
