from django.contrib import admin

from .models import Firing, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Where each feed is read to, and its last failure (operators watch; nobody edits)."""

    list_display = ("definition_code", "registry", "service", "read_at", "failed_at", "failure")
    readonly_fields = [f.name for f in Subscription._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Firing)
class FiringAdmin(admin.ModelAdmin):
    """What was done about each event (no personal data for skipped ones)."""

    list_display = ("definition_code", "event_type", "occurred_on", "outcome", "at")
    list_filter = ("outcome", "event_type", "definition_code")
    readonly_fields = [f.name for f in Firing._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
