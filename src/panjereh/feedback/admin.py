from django.contrib import admin

from .models import Complaint, ComplaintEvent, Evidence, Rating


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = (
        "application", "agency", "ease", "satisfaction", "created_at", "reply_due_at",
        "replied_at", "escalated_at",
    )  # fmt: skip
    list_filter = ("satisfaction", "ease", "agency")
    search_fields = ("application__tracking_code",)
    raw_id_fields = (
        "application", "user", "agency", "service", "replied_by", "escalated_by", "escalated_to",
        "escalation_handled_by",
    )  # fmt: skip
    date_hierarchy = "created_at"


class ComplaintEventInline(admin.TabularInline):
    model = ComplaintEvent
    extra = 0
    readonly_fields = ("at", "from_state", "to_state", "by", "note")


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    # The file itself is served only through the complaint page (owner and handlers).
    readonly_fields = ("original_name", "content_type", "size", "sha256", "uploaded_at")
    exclude = ("stored_name",)


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("tracking_code", "agency", "kind", "state", "routed_to", "created_at")
    list_filter = ("kind", "state")
    search_fields = ("tracking_code",)
    raw_id_fields = ("user", "agency", "service", "routed_to")
    readonly_fields = ("tracking_code", "state", "decided_at")
    inlines = [ComplaintEventInline, EvidenceInline]
