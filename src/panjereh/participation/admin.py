"""Back-office views: read-mostly, no author names in list columns."""

from django.contrib import admin

from .models import Comment, Consultation, Suggestion, WeeklyList


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["pk", "origin", "goal", "agency", "status", "created_at"]
    list_filter = ["status", "origin", "goal"]
    raw_id_fields = ["agency", "service", "proposer", "moderated_by"]


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    list_display = ["title", "agency", "state", "opens_at", "closes_at"]
    list_filter = ["state"]
    raw_id_fields = ["agency", "created_by"]
    readonly_fields = ["state"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["pk", "consultation", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["consultation", "author", "moderated_by"]


@admin.register(WeeklyList)
class WeeklyListAdmin(admin.ModelAdmin):
    list_display = ["jalali_week", "total_votes", "voters", "size", "published_at"]

    def has_change_permission(self, request, obj=None):
        return False  # a published list never changes
