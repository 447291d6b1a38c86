"""Read-only admin: an official notice, its attachments and its history are never edited or
deleted, not here either."""

from django.contrib import admin

from .models import Attachment, Batch, Callback, Notice, NoticeEvent


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("position", "name", "content_type", "size", "sha256")
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = NoticeEvent
    fields = ("at", "from_state", "to_state", "by", "detail")
    readonly_fields = fields


@admin.register(Notice)
class NoticeAdmin(ReadOnly):
    list_display = ("reference", "agency", "recipient_kind", "state", "made_available_at")
    list_filter = ("state", "recipient_kind")
    search_fields = ("reference",)
    exclude = ("token",)
    inlines = [AttachmentInline, EventInline]


@admin.register(Callback)
class CallbackAdmin(ReadOnly):
    list_display = ("notice", "state", "attempts", "delivered_at", "next_try_at", "last_error")


@admin.register(Batch)
class BatchAdmin(ReadOnly):
    list_display = ("reference", "agency", "total", "status", "created_at", "finished_at")
