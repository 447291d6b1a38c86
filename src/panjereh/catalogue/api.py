"""Public, read-only catalogue API: agencies, service identity cards and headline figures.

Anonymous and rate-limited (DRF's anon throttle). Search uses the same Persian-aware index as
the portal, so the API and the pages find the same services for the same words.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from panjereh.common import jalali
from panjereh.common.persian import digits_only

from . import queries, search
from .models import Agency, Service
from .vocab import Recipient


class StatsSerializer(serializers.Serializer):
    as_of = serializers.CharField(allow_null=True)
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
        parameters=[OpenApiParameter("as_of", str, description="Jalali date, e.g. 1404-03-31")],
        responses=StatsSerializer,
    )
    def get(self, request):
        as_of = request.query_params.get("as_of")
        if as_of:
            try:
                moment = jalali.end_of_day(as_of)
            except jalali.InvalidJalaliDate:
                return Response(
                    {"error": "as_of must be a Jalali date such as 1404-03-31"}, status=400
                )
            result = queries.stats(moment, jalali.iso(jalali.parse(as_of)))
        else:
            result = queries.stats()
        return Response(result.as_dict())


class AgencySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Agency
        fields = [
            "code",
            "name_fa",
            "name_en",
            "parent",
            "kind",
            "in_scope",
            "connection_status",
            "connection_form",
            "own_window_url",
            "sso_integrated",
            "member_class",
            "member_code",
            "version",
            "updated_at",
        ]


class ServiceSerializer(serializers.ModelSerializer):
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="service_id", read_only=True)

    class Meta:
        model = Service
        fields = [
            "service_id",
            "agency",
            "parent",
            "level",
            "title_fa",
            "title_en",
            "description_fa",
            "description_en",
            "recipients",
            "category",
            "life_events",
            "channels",
            "scope",
            "connected",
            "connection_form",
            "electronification_level",
            "smart_status",
            "min_assurance_level",
            "fee",
            "target_minutes",
            "inputs",
            "documents_required",
            "in_person_steps",
            "online_url",
            "version",
            "updated_at",
        ]


class AgencyViewSet(viewsets.ReadOnlyModelViewSet):
    """Agencies and other bodies connected to the national window, looked up by code."""

    authentication_classes: list = []
    permission_classes: list = []
    serializer_class = AgencySerializer
    lookup_field = "code"
    # The parent's code is in every row: join it rather than query per row.
    queryset = Agency.objects.select_related("parent").order_by("code")


@extend_schema(
    parameters=[
        OpenApiParameter("q", str, description="Words or a service ID, in any script and digits"),
        OpenApiParameter("agency", str, description="Agency code (its subsidiaries included)"),
        OpenApiParameter("recipient", str, enum=Recipient.values),
        OpenApiParameter("smart", bool, description="Only approved smart services"),
        OpenApiParameter("life_event", str),
    ]
)
class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """Service identity cards, looked up by service ID; searchable and filterable."""

    authentication_classes: list = []
    permission_classes: list = []
    serializer_class = ServiceSerializer
    lookup_field = "service_id"
    lookup_value_regex = r"[0-9۰-۹٠-٩\- ]+"

    def get_queryset(self):
        base = Service.objects.select_related("agency", "parent")
        params = self.request.query_params
        if self.action != "list" or not any(
            params.get(k) for k in ("q", "agency", "recipient", "smart", "life_event")
        ):
            return base.order_by("agency_id", "service_id", "pk")
        agency_pk = None
        if params.get("agency"):
            agency_pk = get_object_or_404(Agency, code=params["agency"]).pk
        recipient = params.get("recipient") or None
        if recipient and recipient not in Recipient.values:
            raise ValidationError({"recipient": f"one of {', '.join(Recipient.values)}"})
        result = search.search_services(
            (params.get("q") or "")[:200],
            agency_pk=agency_pk,
            recipient=recipient,
            smart=params.get("smart", "").lower() in {"1", "true", "yes"},
            life_event=params.get("life_event") or None,
        )
        # Keep the search ranking: fetch the page's rows by key, in ranked order.
        return _Ranked(base, result.service_pks)

    def get_object(self):
        return get_object_or_404(
            Service.objects.select_related("agency", "parent"),
            service_id=digits_only(self.kwargs["service_id"]),
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
