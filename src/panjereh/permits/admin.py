"""Read-only views of the permits catalogue: every change goes through :mod:`.operations`,
where rights are checked and the register is applied."""

from django.contrib import admin

from .models import (
    Condition,
    HolderRating,
    IssuedPermit,
    IssuingAuthority,
    PermitEvent,
    PermitType,
    PermitVersion,
    ReintroductionAttempt,
    RemovedCondition,
    Resolution,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IssuingAuthority)
class IssuingAuthorityAdmin(ReadOnly):
    list_display = ["code", "name_fa", "agency"]
    search_fields = ["code", "name_fa", "name_en"]


class ConditionInline(admin.TabularInline):
    model = Condition
    extra = 0
    fields = ["position", "kind", "text_fa", "basis_fa", "register_key"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PermitType)
class PermitTypeAdmin(ReadOnly):
    list_display = ["public_id", "title_fa", "kind", "authority", "registration_based"]
    list_filter = ["kind", "registration_based"]
    search_fields = ["public_id", "title_fa", "title_en"]
    list_select_related = ["authority"]


@admin.register(PermitVersion)
class PermitVersionAdmin(ReadOnly):
    list_display = ["permit", "number", "state", "published_at"]
    list_filter = ["state"]
    raw_id_fields = ["permit"]
    inlines = [ConditionInline]


@admin.register(Resolution)
class ResolutionAdmin(ReadOnly):
    list_display = ["body", "number", "date", "title_fa"]


@admin.register(RemovedCondition)
class RemovedConditionAdmin(ReadOnly):
    list_display = ["key", "wording_fa", "kind", "resolution"]
    filter_horizontal = []
    exclude = ["permit_types"]


@admin.register(ReintroductionAttempt)
class ReintroductionAttemptAdmin(ReadOnly):
    list_display = ["at", "authority", "permit_title", "removed", "by"]
    list_select_related = ["authority", "removed"]


class PermitEventInline(admin.TabularInline):
    model = PermitEvent
    extra = 0
    fields = ["at", "kind", "from_status", "to_status", "by", "note", "changes"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(IssuedPermit)
class IssuedPermitAdmin(ReadOnly):
    """Read only: issued permits change through ``permits.holding`` (rights, history, notice)."""

    list_display = ["number", "holder_name", "permit", "authority", "status", "valid_until"]
    list_filter = ["status"]
    search_fields = ["=number", "holder_name", "business_name"]
    list_select_related = ["permit", "authority"]
    raw_id_fields = ["permit", "authority", "application", "holder", "company"]
    inlines = [PermitEventInline]


@admin.register(HolderRating)
class HolderRatingAdmin(ReadOnly):
    """Read only: moderators hide ratings from the permit's public page (``ratings.hide``)."""

    list_display = ["issued", "period", "stars", "hidden", "created_at", "answered_at"]
    list_filter = ["hidden", "period"]
    raw_id_fields = ["issued", "rater", "answered_by"]
