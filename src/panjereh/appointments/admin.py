from django.contrib import admin

from .models import Booking, BookingEvent, Office, Slot, WaitlistEntry


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ("code", "name_fa", "kind", "agency", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name_fa", "name_en", "specialty_fa")


class ReadOnly(admin.ModelAdmin):
    """Slots and bookings move through the operations (seats, states); the admin reads."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Slot)
class SlotAdmin(ReadOnly):
    list_display = ("office", "starts_at", "capacity", "taken", "closed_at")


@admin.register(Booking)
class BookingAdmin(ReadOnly):
    list_display = ("reference", "office", "day", "state", "person")
    list_filter = ("state",)
    search_fields = ("reference",)


@admin.register(BookingEvent)
class BookingEventAdmin(ReadOnly):
    list_display = ("booking", "at", "from_state", "to_state")


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnly):
    list_display = ("office", "day", "person", "status", "created_at", "offered")
    list_filter = ("status",)
