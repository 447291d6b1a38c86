"""Back-office views of definitions, applications and documents (read-mostly: the state
changes only through the engine and the officer pages, never by editing a row)."""

from django.contrib import admin

from .models import Application, Document, JourneyEvent, ServiceDefinition


@admin.register(ServiceDefinition)
class ServiceDefinitionAdmin(admin.ModelAdmin):
    list_display = ("code", "version", "agency", "smart", "active", "loaded_at")
    list_filter = ("smart", "active")
    readonly_fields = [f.name for f in ServiceDefinition._meta.fields]


class JourneyInline(admin.TabularInline):
    model = JourneyEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "from_state", "to_state", "text_fa", "text_en")
    fields = readonly_fields


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("tracking_code", "definition", "state", "waiting_for", "submitted_at", "due_at")
    list_filter = ("state", "origin", "agency")
    search_fields = ("tracking_code",)
    readonly_fields = [f.name for f in Application._meta.fields]
    inlines = [JourneyInline]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("number", "agency", "issued_at", "revoked_at")
    search_fields = ("number",)
    readonly_fields = [f.name for f in Document._meta.fields]
