"""Back office for the catalogue: agencies, service identity cards and agency staff.

Every save goes through :mod:`.operations` with the signed-in user as author, so the rules of the
law, the permissions and the version rows are the same as for any other write. The forms run the
same checks first, so a refused change comes back as a form error, not a server error. Agency
staff see and edit only their own agency's cards; AEO and ITO see all; only AEO sets service IDs
and certifies; only the Steering WG approves smart services. The audit trail is the version rows
(shown read-only on each card) plus Django's admin log.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.common import jalali
from panjereh.common.forms import StringListAdminMixin

from . import operations, roles
from .models import (
    Agency,
    AgencyMembership,
    AgencyVersion,
    OnceOnlyJustification,
    Service,
    ServiceVersion,
)
from .rules import check_service

SERVICE_EDITABLE = [*operations.SERVICE_FIELDS, "parent"]
AGENCY_EDITABLE = [*operations.AGENCY_FIELDS, "parent"]
# What only the platform (AEO, ITO) may change about an agency: it decides the national figures.
AGENCY_PLATFORM_FIELDS = [
    "code",
    "parent",
    "kind",
    "in_scope",
    "connection_status",
    "member_class",
    "member_code",
]


def _sees_everything(user) -> bool:
    return any(roles.has_role(user, role) for role in (roles.AEO, roles.ITO, roles.STEERING_WG))


def _is_platform(user) -> bool:
    return roles.has_role(user, roles.AEO) or roles.has_role(user, roles.ITO)


def _jalali_moment(value) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value, jalali.TEHRAN)
    return f"{jalali.format_fa(local)} {local:%H:%M}"


class _CatalogueAccess:
    """Who may enter the catalogue's pages at all: staff with a role or an agency membership."""

    def has_module_permission(self, request) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and (_sees_everything(user) or roles.agency_ids(user, ("admin", "editor", "viewer")))
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Cards and agencies carry their history; removing them is a superuser's repair job.
        return request.user.is_superuser


class _VersionInline(admin.TabularInline):
    extra = 0
    can_delete = False
    ordering = ["-version"]
    fields = ["version", "valid_from_jalali", "author", "note"]
    readonly_fields = fields

    @admin.display(description=_("valid from"))
    def valid_from_jalali(self, obj) -> str:
        return _jalali_moment(obj.valid_from)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ServiceVersionInline(_VersionInline):
    model = ServiceVersion
    fk_name = "service"
    fields = ["version", "valid_from_jalali", "author", "note", "connected", "smart_status"]
    readonly_fields = fields
    verbose_name = _("version")
    verbose_name_plural = _("version history")


class AgencyVersionInline(_VersionInline):
    model = AgencyVersion
    fields = ["version", "valid_from_jalali", "author", "note", "connection_status"]
    readonly_fields = fields
    verbose_name = _("version")
    verbose_name_plural = _("version history")


def _formfield(db_field, **kwargs):
    # Addresses are HTTPS unless typed otherwise (Django 6's default, chosen now).
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


URL_OVERRIDES = {models.URLField: {"assume_scheme": "https"}}


def _form_errors(form: forms.ModelForm, violations) -> None:
    for violation in violations:
        field = violation.field if violation.field in form.fields else None
        form.add_error(field, violation.message)


class ServiceAdminForm(forms.ModelForm):
    """Runs the operation's permission and rule checks at validation time."""

    user: Any = None

    class Meta:
        model = Service
        fields = ["agency", *SERVICE_EDITABLE]
        formfield_callback = _formfield

    def changes(self) -> dict[str, Any]:
        names = SERVICE_EDITABLE if self.instance.pk is None else self.changed_data
        return {
            n: self.cleaned_data[n]
            for n in names
            if n in SERVICE_EDITABLE and n in self.cleaned_data
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        changes = self.changes()
        if self.instance.pk is None:
            if cleaned.get("agency") is None:
                return cleaned
            target = Service(agency=cleaned["agency"])
        else:
            target = Service.objects.select_related("agency").get(pk=self.instance.pk)
        try:
            operations.check_author_may_edit(self.user, target, changes)
        except PermissionDenied as exc:
            raise ValidationError(str(exc)) from exc
        card = {name: getattr(target, name) for name in operations.SERVICE_FIELDS}
        card.update(changes)
        if card.get("service_id") == "":
            card["service_id"] = None
        _form_errors(self, check_service(card))
        _form_errors(
            self,
            operations.once_only_refusals(
                card,
                before=target if target.pk else None,
                service_pk=target.pk,
                author=self.user,
            ),
        )
        return cleaned


@admin.register(Service)
class ServiceAdmin(StringListAdminMixin, _CatalogueAccess, admin.ModelAdmin):
    form = ServiceAdminForm
    string_list_fields = (
        "recipients",
        "life_events",
        "channels",
        "documents_required",
        "in_person_steps",
    )
    formfield_overrides = URL_OVERRIDES
    list_display = [
        "service_id",
        "title_fa",
        "agency",
        "scope",
        "connected",
        "smart_status",
        "version",
        "updated_at",
    ]
    list_filter = ["scope", "connected", "smart_status", "category"]
    search_fields = ["service_id", "title_fa", "title_en", "agency__name_fa", "agency__code"]
    list_select_related = ["agency"]
    raw_id_fields = ["parent"]
    inlines = [ServiceVersionInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _sees_everything(request.user):
            return queryset
        return queryset.filter(
            agency__in=roles.agency_ids(request.user, ("admin", "editor", "viewer"))
        )

    def has_add_permission(self, request) -> bool:
        return _is_platform(request.user) or bool(roles.agency_ids(request.user))

    def has_change_permission(self, request, obj=None) -> bool:
        user = request.user
        if obj is None:
            return _sees_everything(user) or bool(roles.agency_ids(user))
        return roles.can_edit_agency_cards(user, obj.agency_id) or roles.can_approve_smart(user)

    def get_readonly_fields(self, request, obj=None):
        user = request.user
        if obj is not None and not roles.can_edit_agency_cards(user, obj.agency_id):
            # The Steering WG sees every card but decides only whether it is smart.
            return ["agency", *[n for n in SERVICE_EDITABLE if n != "smart_status"]]
        readonly = [] if roles.can_assign_service_ids(user) else ["service_id"]
        if obj is not None:
            readonly.append("agency")  # a card does not move between agencies
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agency" and not _is_platform(request.user):
            kwargs["queryset"] = Agency.objects.filter(pk__in=roles.agency_ids(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def save_model(self, request, obj, form, change):
        changes = form.changes()
        if change:
            target = Service.objects.select_related("agency").get(pk=obj.pk)
        else:
            target = Service(agency=form.cleaned_data["agency"])
        saved = operations.save_service(
            target, changes, author=request.user, note="changed in the back office"
        )
        obj.pk = saved.pk
        obj.version = saved.version
        obj.search_key = saved.search_key


class AgencyAdminForm(forms.ModelForm):
    user: Any = None

    class Meta:
        model = Agency
        fields = AGENCY_EDITABLE
        formfield_callback = _formfield

    def changes(self) -> dict[str, Any]:
        names = AGENCY_EDITABLE if self.instance.pk is None else self.changed_data
        return {
            n: self.cleaned_data[n]
            for n in names
            if n in AGENCY_EDITABLE and n in self.cleaned_data
        }

    def clean(self):
        cleaned = super().clean()
        user = self.user
        allowed = _is_platform(user) or (
            self.instance.pk and self.instance.pk in roles.agency_ids(user, ("admin",))
        )
        if not allowed:
            raise ValidationError(_("You may edit only your own agency."))
        return cleaned


@admin.register(Agency)
class AgencyAdmin(_CatalogueAccess, admin.ModelAdmin):
    form = AgencyAdminForm
    formfield_overrides = URL_OVERRIDES
    list_display = [
        "code",
        "name_fa",
        "kind",
        "in_scope",
        "connection_status",
        "has_own_window",
        "sso_integrated",
    ]
    list_filter = ["kind", "in_scope", "connection_status", "sso_integrated"]
    search_fields = ["code", "name_fa", "name_en", "member_code"]
    raw_id_fields = ["parent"]
    inlines = [AgencyVersionInline]

    @admin.display(boolean=True, description=_("own agency window"))
    def has_own_window(self, obj) -> bool:
        return obj.has_own_window

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _sees_everything(request.user):
            return queryset
        return queryset.filter(pk__in=roles.agency_ids(request.user, ("admin", "editor", "viewer")))

    def has_add_permission(self, request) -> bool:
        return _is_platform(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        user = request.user
        if _is_platform(user):
            return True
        admin_of = roles.agency_ids(user, ("admin",))
        return bool(admin_of) if obj is None else obj.pk in admin_of

    def get_readonly_fields(self, request, obj=None):
        return [] if _is_platform(request.user) else AGENCY_PLATFORM_FIELDS

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def save_model(self, request, obj, form, change):
        changes = form.changes()
        target = Agency.objects.get(pk=obj.pk) if change else Agency()
        if "parent" in changes:
            target.parent = changes.pop("parent")
        saved = operations.save_agency(
            target, changes, author=request.user, note="changed in the back office"
        )
        obj.pk = saved.pk
        obj.version = saved.version
        obj.search_key = saved.search_key


@admin.register(AgencyMembership)
class AgencyMembershipAdmin(_CatalogueAccess, admin.ModelAdmin):
    list_display = ["user", "agency", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "agency__name_fa", "agency__code"]
    raw_id_fields = ["user", "agency"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("user", "agency")
        if _sees_everything(request.user):
            return queryset
        return queryset.filter(agency__in=roles.agency_ids(request.user, ("admin",)))

    # Who works for which agency decides who may edit its cards: the platform manages it.
    def has_add_permission(self, request) -> bool:
        return _is_platform(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return _is_platform(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return _is_platform(request.user)


@admin.register(OnceOnlyJustification)
class OnceOnlyJustificationAdmin(_CatalogueAccess, admin.ModelAdmin):
    """Read-only: justifications are recorded through
    ``operations.record_once_only_justification`` and never changed."""

    list_display = ["service", "agency", "item", "version", "recorded_jalali", "author"]
    list_filter = ["item"]
    search_fields = ["service__service_id", "service__title_fa", "agency__code", "reason_fa"]
    list_select_related = ["service", "agency", "author"]
    readonly_fields = [
        "service",
        "agency",
        "item",
        "version",
        "asked",
        "reason_fa",
        "reason_en",
        "legal_basis",
        "service_version",
        "author",
        "recorded_at",
    ]

    @admin.display(description=_("recorded at"))
    def recorded_jalali(self, obj) -> str:
        return _jalali_moment(obj.recorded_at)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _sees_everything(request.user):
            return queryset
        return queryset.filter(
            agency__in=roles.agency_ids(request.user, ("admin", "editor", "viewer"))
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
