"""The official mailbox's machine API for agency systems (docs/mailbox.md)."""

from django.urls import path

from . import api

app_name = "mailbox_api"

urlpatterns = [
    path("notices", api.notices, name="notices"),
    path("notices/<str:reference>", api.notice, name="notice"),
    path("notices/<str:reference>/proof", api.proof, name="proof"),
    path("batches", api.batches, name="batches"),
    path("batches/<str:reference>", api.batch, name="batch"),
]
