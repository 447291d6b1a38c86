"""The window's own mobile app: a public OAuth 2.0 client with PKCE (citizenapi.client)."""

from django.db import migrations

CLIENT_ID = "panjereh-app"
REDIRECT = "ir.gov.panjereh.app:/oauth/callback"


def create(apps, schema_editor):
    Application = apps.get_model("oauth2_provider", "Application")
    Application.objects.update_or_create(
        client_id=CLIENT_ID,
        defaults={
            "name": "پنجره ملی (برنامه همراه)",
            "client_type": "public",
            "authorization_grant_type": "authorization-code",
            "redirect_uris": REDIRECT,
            "post_logout_redirect_uris": REDIRECT,
            "algorithm": "RS256",
            "skip_authorization": True,
            "client_secret": "",
            "hash_client_secret": False,
        },
    )


def remove(apps, schema_editor):
    Application = apps.get_model("oauth2_provider", "Application")
    Application.objects.filter(client_id=CLIENT_ID).delete()


class Migration(migrations.Migration):
    dependencies = [("oauth2_provider", "0022_refreshtoken_token_family_index")]

    operations = [migrations.RunPython(create, remove)]
