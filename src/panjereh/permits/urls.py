from django.urls import path, re_path

from . import views, views_apply, views_public, views_routing, views_versions

app_name = "permits"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("removed/", views.removed, name="removed"),
    re_path(r"^(?P<public_id>[0-9]{10})/$", views.permit, name="permit"),
    # Applying, my submissions, one application and the authority's queue (helper A1).
    re_path(r"^(?P<public_id>[0-9]{10})/apply/$", views_apply.apply, name="apply"),
    # The issuing authority's staff: draft and publish a new version.
    re_path(r"^(?P<public_id>[0-9]{10})/versions/$", views_versions.versions, name="versions"),
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
    # Issued permits (helper B): the QR code's public page and what hangs off it.
    path("mine/", views_public.mine, name="mine"),
    path("verify/", views_public.verify, name="verify"),
    re_path(r"^p/(?P<number>[^/]{1,40})/$", views_public.public, name="public"),
    re_path(r"^p/(?P<number>[^/]{1,40})/pdf/$", views_public.pdf, name="pdf"),
    re_path(r"^p/(?P<number>[^/]{1,40})/manage/$", views_public.manage, name="manage"),
    re_path(r"^p/(?P<number>[^/]{1,40})/(?P<action>renew|cancel)/$", views_public.act, name="act"),
    re_path(
        r"^p/(?P<number>[^/]{1,40})/ratings/(?P<pk>[0-9]{1,12})/answer/$",
        views_public.answer,
        name="answer",
    ),
    re_path(
        r"^p/(?P<number>[^/]{1,40})/ratings/(?P<pk>[0-9]{1,12})/hide/$",
        views_public.hide,
        name="hide",
    ),
    # Routing to the specialised portals (helper A2): the answer to a request for more
    # information, the portals' health per authority, a held application sent again.
    path(
        "applications/<str:reference>/information/",
        views_routing.answer_information,
        name="answer_information",
    ),
    path("portals/", views_routing.portals, name="portals"),
    path("portals/resend/<str:reference>/", views_routing.resend, name="resend"),
]
