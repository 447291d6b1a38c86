from django.contrib import admin

from .models import Delivery, Message


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    readonly_fields = ("channel", "address", "status", "attempts", "last_error", "sent_at")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("subject_fa", "user", "kind", "created_at", "read_at")
    list_filter = ("kind",)
    readonly_fields = [f.name for f in Message._meta.fields]
    inlines = [DeliveryInline]
