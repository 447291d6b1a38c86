"""The agency service designer's pages, under ``/services/designer/`` (names ``designer_*`` in
the services namespace)."""

from django.urls import path

from . import designer_views as views

urlpatterns = [
    path("", views.index, name="designer"),
    path("new/", views.create, name="designer_new"),
    path("import/", views.import_definition, name="designer_import"),
    path("<int:pk>/", views.version, name="designer_version"),
    path("<int:pk>/check.json", views.check, name="designer_check"),
    path("<int:pk>/test/", views.test_page, name="designer_test"),
    path("<int:pk>/act/", views.act, name="designer_act"),
    path("<int:pk>/new-version/", views.new_version, name="designer_new_version"),
    path("<int:pk>/access/", views.request_access, name="designer_access"),
    path("<int:pk>/export.json", views.export, name="designer_export"),
]
