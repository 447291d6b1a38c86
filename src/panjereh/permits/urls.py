from django.urls import path, re_path

from . import views, views_apply

app_name = "permits"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("removed/", views.removed, name="removed"),
    re_path(r"^(?P<public_id>[0-9]{10})/$", views.permit, name="permit"),
    # Applying, my submissions, one application and the authority's queue (helper A1).
    re_path(r"^(?P<public_id>[0-9]{10})/apply/$", views_apply.apply, name="apply"),
    path("applications/", views_apply.applications, name="applications"),
    path("applications/<str:reference>/", views_apply.application, name="application"),
    path(
        "applications/<str:reference>/withdraw/",
        views_apply.withdraw,
        name="application_withdraw",
    ),
    path("applications/<str:reference>/pay/", views_apply.pay, name="application_pay"),
    path("applications/<str:reference>/decide/", views_apply.decide, name="application_decide"),
    path("authority/", views_apply.authority_queue, name="authority_queue"),
]
