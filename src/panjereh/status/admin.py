"""The operators' side: watched systems, incidents (maintenance announced by hand, notes on
the monitor's own), and their timelines. The platform operator (ITO) runs the status page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from panjereh.catalogue import roles

from . import incidents
from .models import Incident, IncidentKind, IncidentState, IncidentUpdate, System


class _OperatorAccess:
    """The platform operator (ITO) and superusers."""

    def _operator(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and roles.has_role(user, roles.ITO))

    def has_module_permission(self, request) -> bool:
        return self._operator(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._operator(request)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._operator(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._operator(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(System)
class SystemAdmin(_OperatorAccess, admin.ModelAdmin):
    list_display = [
        "name_fa",
        "name_en",
        "kind",
        "enabled",
        "last_ok",
        "last_checked_at",
        "check_url",
    ]
    list_filter = ["kind", "enabled", "source"]
    search_fields = ["key", "name_fa", "name_en", "check_url"]
    readonly_fields = ["source", "last_checked_at", "last_ok", "last_latency_ms", "last_error"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a system with history is disabled, never deleted


class IncidentUpdateInline(admin.TabularInline):
    model = IncidentUpdate
    extra = 1
    fields = ["at", "kind", "text_fa", "text_en"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the timeline is history: add to it, do not rewrite it

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return True


@admin.register(Incident)
class IncidentAdmin(_OperatorAccess, admin.ModelAdmin):
    list_display = ["public_id", "system", "kind", "state", "started_at", "ended_at"]
    list_filter = ["state", "kind", "system__kind"]
    search_fields = ["public_id", "title_fa", "title_en", "system__name_fa", "system__name_en"]
    readonly_fields = ["public_id", "state", "first_error", "failed_checks"]
    fields = [
        "public_id",
        "system",
        "kind",
        "state",
        "started_at",
        "ended_at",
        "title_fa",
        "title_en",
        "note_fa",
        "note_en",
        "first_error",
        "failed_checks",
    ]
    inlines = [IncidentUpdateInline]
    actions = ["resolve_now"]

    def get_changeform_initial_data(self, request):
        return {"kind": IncidentKind.MAINTENANCE, "started_at": timezone.now()}

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            # Numbered and given its "opened" entry like the monitor's own incidents.
            created = incidents.open_incident(
                obj.system,
                obj.started_at,
                kind=obj.kind,
                title_fa=obj.title_fa,
                title_en=obj.title_en,
                note_fa=obj.note_fa,
                note_en=obj.note_en,
                ended_at=obj.ended_at,
                actor=request.user,
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        before = Incident.objects.get(pk=obj.pk)
        ended_at = obj.ended_at
        obj.ended_at = before.ended_at
        obj.state = before.state
        obj.save()
        if ended_at and before.state == IncidentState.OPEN:
            incidents.resolve(obj, ended_at, actor=request.user)
        elif ended_at is None and before.state == IncidentState.RESOLVED:
            incidents.reopen(obj, actor=request.user)
        elif ended_at and ended_at != before.ended_at:
            Incident.objects.filter(pk=obj.pk).update(ended_at=ended_at)

    def save_formset(self, request, form, formset, change) -> None:
        for update in formset.save(commit=False):
            update.incident = form.instance
            update.save()

    @admin.action(description=_("Resolve the selected incidents now"))
    def resolve_now(self, request, queryset) -> None:
        done = 0
        for incident in queryset.filter(state=IncidentState.OPEN):
            incidents.resolve(incident, timezone.now(), actor=request.user)
            done += 1
        self.message_user(
            request,
            ngettext("%(n)d incident resolved.", "%(n)d incidents resolved.", done) % {"n": done},
            messages.SUCCESS,
        )
