"""A card's fields are listed once (``operations.SERVICE_FIELDS`` / ``AGENCY_FIELDS``): the
admin form, the export's columns and the import's readers come from that list, and the API's
serializer, which declares each field's type and help text for the schema, agrees with it."""

from __future__ import annotations

from django.db import models

from panjereh.catalogue import admin, api, operations, transfer
from panjereh.catalogue.models import Agency, Service

TEXT_FIELDS = (models.CharField, models.TextField)  # URLField is a CharField


def _needs_a_reader(model, name: str) -> bool:
    return not isinstance(model._meta.get_field(name), TEXT_FIELDS)


def test_the_import_reads_every_field_of_the_one_list_and_nothing_else():
    for model, names, readers in (
        (Service, operations.SERVICE_FIELDS, transfer.SERVICE_READERS),
        (Agency, operations.AGENCY_FIELDS, transfer.AGENCY_READERS),
    ):
        assert set(readers) <= set(names), set(readers) - set(names)
        untyped = [n for n in names if _needs_a_reader(model, n) and n not in readers]
        assert not untyped, f"{model.__name__}: fields that are not text need a reader: {untyped}"


def test_the_import_and_export_types_are_fields_of_the_right_kind():
    def kind(name: str):
        return type(Service._meta.get_field(name))

    assert all(kind(n) is models.JSONField for n in transfer.SERVICE_LISTS)
    assert all(issubclass(kind(n), models.IntegerField) for n in transfer.SERVICE_INTS)
    assert all(kind(n) is models.BooleanField for n in transfer.SERVICE_BOOLS)
    assert transfer.SERVICE_COLUMNS[3:-1] == operations.SERVICE_FIELDS[1:]
    assert transfer.AGENCY_COLUMNS[2:-1] == operations.AGENCY_FIELDS[1:]


def test_the_admin_form_edits_the_one_list():
    assert admin.SERVICE_EDITABLE == [*operations.SERVICE_FIELDS, "parent"]
    assert admin.AGENCY_EDITABLE == [*operations.AGENCY_FIELDS, "parent"]


def test_the_api_serializer_agrees_with_the_one_list():
    # Fields the API leaves out today; a field added to the one list must be served by the
    # serializer or named here, on purpose.
    not_served = {"exemption_reason", "exemption_document"}
    agency_not_served = {"connection_reason", "connection_evidence"}
    about_the_row = {"agency", "parent", "version", "updated_at"}
    served = set(api.ServiceSerializer().fields) - about_the_row
    assert served == set(operations.SERVICE_FIELDS) - not_served
    agency_served = set(api.AgencySerializer().fields) - about_the_row
    assert agency_served == set(operations.AGENCY_FIELDS) - agency_not_served
