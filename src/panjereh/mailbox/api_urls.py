"""The official mailbox's machine API for agency systems (docs/mailbox.md).

Each address calls its plain view in ``api``; ``api_schema.documented`` only attaches the
description drf-spectacular puts in docs/openapi.yaml."""

from django.urls import path

from . import api
from . import api_schema as schema

app_name = "mailbox_api"

urlpatterns = [
    path("notices", schema.documented(api.notices, schema.NoticesDescription), name="notices"),
    path(
        "notices/<str:reference>",
        schema.documented(api.notice, schema.NoticeDescription),
        name="notice",
    ),
    path(
        "notices/<str:reference>/proof",
        schema.documented(api.proof, schema.ProofDescription),
        name="proof",
    ),
    path("batches", schema.documented(api.batches, schema.BatchesDescription), name="batches"),
    path(
        "batches/<str:reference>",
        schema.documented(api.batch, schema.BatchDescription),
        name="batch",
    ),
]
