from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class PanjerehUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Panjereh", {"fields": ("national_code", "mobile", "assurance_level")}),
    )
    list_display = ("username", "national_code", "first_name", "last_name", "is_staff")
    search_fields = ("username", "national_code", "first_name", "last_name")
