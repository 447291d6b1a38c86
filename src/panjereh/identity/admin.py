"""Back office for identity. OIDC clients (agency windows) are registered here, with exact
redirect URIs, by the platform operator (the ITO role) only; in-person checks are recorded
here by officers holding the ``record_in_person_check`` permission."""

from __future__ import annotations

import oauth2_provider.admin  # noqa: F401  (registered first, so that it can be replaced here)
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from oauth2_provider.models import get_application_model

from panjereh.catalogue.roles import ITO, has_role

from . import assurance
from .models import (
    AuthEvent,
    BackchannelDelivery,
    ClientProfile,
    CompanyDelegation,
    Delegation,
    InPersonCheck,
    LegalPerson,
    Representative,
    User,
)

Application = get_application_model()


@admin.register(User)
class PanjerehUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        (
            "Panjereh",
            {
                "fields": (
                    "national_code",
                    "mobile",
                    "father_name",
                    "birth_date",
                    "assurance_level",
                    "registry_verified_at",
                    "mobile_verified_at",
                    "photo_verified_at",
                )
            },
        ),
    )
    # The identity, the level and its evidence come from registration, the registries and the
    # checks, never from typing: the back office cannot make or alter a citizen's identity.
    readonly_fields = (
        "national_code",
        "mobile",
        "father_name",
        "birth_date",
        "assurance_level",
        "registry_verified_at",
        "mobile_verified_at",
        "photo_verified_at",
    )
    list_display = (
        "username",
        "national_code",
        "first_name",
        "last_name",
        "assurance_level",
        "is_staff",
    )
    list_filter = ("assurance_level", "is_staff", "is_superuser", "is_active")
    search_fields = ("username", "national_code", "first_name", "last_name")


class OperatorOnly:
    """Only the platform operator (ITO) manages agency windows' clients."""

    def has_module_permission(self, request):
        return has_role(request.user, ITO)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, ITO)

    def has_add_permission(self, request, *args):
        return has_role(request.user, ITO)

    def has_change_permission(self, request, obj=None):
        return has_role(request.user, ITO)

    def has_delete_permission(self, request, obj=None):
        return has_role(request.user, ITO)


class ClientProfileInline(OperatorOnly, admin.StackedInline):
    model = ClientProfile
    can_delete = False


if admin.site.is_registered(Application):
    admin.site.unregister(Application)


@admin.register(Application)
class AgencyClientAdmin(OperatorOnly, admin.ModelAdmin):
    list_display = ("name", "client_id", "client_type", "authorization_grant_type", "algorithm")
    search_fields = ("name", "client_id")
    inlines = [ClientProfileInline]
    fields = (
        "name",
        "client_id",
        "client_secret",
        "client_type",
        "authorization_grant_type",
        "redirect_uris",
        "post_logout_redirect_uris",
        "algorithm",
        "skip_authorization",
    )


class CopiedFromRegistry(admin.ModelAdmin):
    """Companies and who represents them are copied from the company registry
    (``businesses``), never typed: the back office may only read them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LegalPerson)
class LegalPersonAdmin(CopiedFromRegistry):
    list_display = ("name", "national_id")
    search_fields = ("name", "national_id")


@admin.register(Representative)
class RepresentativeAdmin(CopiedFromRegistry):
    list_display = ("person", "legal_person", "role", "valid_from", "valid_until")
    raw_id_fields = ("person", "legal_person")


@admin.register(CompanyDelegation)
class CompanyDelegationAdmin(CopiedFromRegistry):
    """Granted and revoked by the companies' representatives on their own pages."""

    list_display = ("company", "granted_by", "scopes", "expires_at", "revoked_at")
    raw_id_fields = ("company", "granted_by", "revoked_by")


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("principal", "helper", "purpose", "expires_at", "revoked_at")
    raw_id_fields = ("principal", "helper")


@admin.register(InPersonCheck)
class InPersonCheckAdmin(admin.ModelAdmin):
    list_display = ("user", "officer", "office", "checked_at")
    raw_id_fields = ("user",)
    fields = ("user", "office", "document", "note")

    def has_add_permission(self, request):
        return request.user.has_perm("identity.record_in_person_check")

    def has_change_permission(self, request, obj=None):
        return False  # a recorded check is evidence: it is not edited

    def save_model(self, request, obj, form, change):
        obj.officer = request.user
        super().save_model(request, obj, form, change)
        assurance.recompute(obj.user)


@admin.register(AuthEvent)
class AuthEventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "user", "client_name", "ip")
    list_filter = ("kind",)
    raw_id_fields = ("user", "acting_for", "delegation")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BackchannelDelivery)
class BackchannelDeliveryAdmin(admin.ModelAdmin):
    """Sign-outs an agency window has not accepted yet: the worker retries them."""

    list_display = (
        "created_at",
        "application",
        "state",
        "attempts",
        "last_status",
        "next_attempt_at",
    )
    list_filter = ("state",)
    raw_id_fields = ("user", "application")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
