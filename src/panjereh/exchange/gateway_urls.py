"""The gateway's address space: ``/r1/...`` (outside the language prefixes)."""

from django.urls import path

from .gateway import gateway

urlpatterns = [
    path("", gateway, {"path": ""}),  # the bare prefix: answered by the gateway (bad address)
    path("<path:path>", gateway, name="exchange-gateway"),
]
