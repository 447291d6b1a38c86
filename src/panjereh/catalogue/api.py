"""Read-only catalogue API (public, anonymous)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from panjereh.common import jalali

from . import queries


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
