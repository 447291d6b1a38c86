"""The public share page: ``/shared/<token>/`` (anyone holding the link, until it expires)."""

from django.urls import path

from . import views_shared

app_name = "shared"

urlpatterns = [
    path("<str:token>/", views_shared.shared, name="shared"),
    path("<str:token>/token.jws", views_shared.shared_token, name="token"),
]
