from django.contrib import admin

from .models import ShareLink


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    """Read only: links are made and revoked by their holders (``personal.operations``); the
    secret is not stored, only its hash, which is not shown."""

    list_display = (
        "reference",
        "kind",
        "holder",
        "created_at",
        "expires_at",
        "revoked_at",
        "views",
    )
    list_filter = ("kind", "lifetime")
    exclude = ("token_hash",)
    readonly_fields = (
        "holder",
        "reference",
        "kind",
        "title",
        "lifetime",
        "created_at",
        "expires_at",
        "revoked_at",
        "views",
        "last_viewed_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
