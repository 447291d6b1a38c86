"""The back office's view of payments: read-only (every write goes through operations)."""

from django.contrib import admin

from .models import FinanceCase, Payment, PaymentEvent, Refund, SettlementFile, TreasuryAccount


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_state", "to_state", "at", "actor", "source", "note", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnly):
    list_display = ["reference", "purpose_kind", "amount", "state", "agency", "created_at"]
    list_filter = ["state", "purpose_kind", "provider"]
    search_fields = ["reference", "provider_token", "provider_ref", "purpose_id"]
    inlines = [EventInline]


@admin.register(Refund)
class RefundAdmin(ReadOnly):
    list_display = ["payment", "amount", "state", "created_at"]
    list_filter = ["state"]


@admin.register(TreasuryAccount)
class TreasuryAccountAdmin(ReadOnly):
    list_display = ["agency", "title", "shaba", "treasury_id", "active"]


@admin.register(SettlementFile)
class SettlementFileAdmin(ReadOnly):
    list_display = ["provider", "day", "lines", "matched", "fetched_at"]


@admin.register(FinanceCase)
class FinanceCaseAdmin(ReadOnly):
    list_display = ["kind", "state", "agency", "payment", "expected_amount", "reported_amount"]
    list_filter = ["kind", "state"]
