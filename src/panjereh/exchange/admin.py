"""Back-office views of the exchange for the platform operator (read-mostly)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from panjereh.common.forms import StringListAdminMixin

from . import grants
from .models import ConsumerSystem, DataService, Grant, GrantEvent, LogRecord, MonthlyStat, Seal


@admin.register(DataService)
class DataServiceAdmin(StringListAdminMixin, admin.ModelAdmin):
    string_list_fields = ("items", "key_fields")
    list_display = ["code", "subsystem", "provider", "version", "enabled"]
    list_filter = ["enabled"]
    search_fields = ["code", "subsystem", "title_fa", "title_en"]


@admin.register(ConsumerSystem)
class ConsumerSystemAdmin(admin.ModelAdmin):
    list_display = ["subsystem", "agency", "enabled", "rate_per_minute"]


class GrantEventInline(admin.TabularInline):
    model = GrantEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_state", "to_state", "at", "actor", "note", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description=gettext_lazy("Revoke the selected grants"))
def revoke_grants(modeladmin, request, queryset):
    revoked = 0
    for grant in queryset:
        try:
            grants.revoke(grant, actor=request.user, note=_("revoked in the back office"))
            revoked += 1
        except (PermissionDenied, ValidationError) as error:
            modeladmin.message_user(request, f"{grant}: {error}", messages.ERROR)
    modeladmin.message_user(request, _("%(n)d grants revoked.") % {"n": revoked})


@admin.register(Grant)
class GrantAdmin(StringListAdminMixin, admin.ModelAdmin):
    string_list_fields = ("requested_items", "items")
    # Grants are requested and decided through panjereh.exchange.grants, so that every change
    # of state is checked and recorded as an event; here they are read and revoked.
    list_display = ["consumer", "service", "state", "resolution_number", "valid_until"]
    list_filter = ["state"]
    actions = [revoke_grants]
    inlines = [GrantEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Grant._meta.fields if field.name != "note"]

    def has_add_permission(self, request):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LogRecord)
class LogRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "seq", "client", "service", "subject", "outcome", "http_status"]
    list_filter = ["outcome", "fault"]
    search_fields = ["x_road_id", "incident", "subject"]


@admin.register(Seal)
class SealAdmin(ReadOnlyAdmin):
    list_display = ["first_seq", "last_seq", "created_at", "key_id"]


@admin.register(MonthlyStat)
class MonthlyStatAdmin(ReadOnlyAdmin):
    list_display = ["month", "provider", "consumer", "service", "calls", "failures"]
    list_filter = ["month"]
