from django.urls import path, re_path

from . import views

app_name = "participation"

_WEEK = r"(?P<label>\d{4}-\d{2}-\d{2})"

urlpatterns = [
    path("", views.index, name="index"),
    path("services/", views.agencies, name="agencies"),
    path("services/<slug:code>/", views.agency, name="agency"),
    path("proposals/", views.proposals, name="proposals"),
    path("propose/", views.propose, name="propose"),
    path("vote/", views.vote, name="vote"),
    path("mine/", views.mine, name="mine"),
    path("weekly/", views.weekly_archive, name="weekly_archive"),
    re_path(r"^weekly/current\.(?P<fmt>json|csv)$", views.current_data, name="current_data"),
    re_path(rf"^weekly/{_WEEK}/$", views.weekly, name="weekly"),
    re_path(rf"^weekly/{_WEEK}\.(?P<fmt>json|csv)$", views.weekly_data, name="weekly_data"),
    path("consultations/", views.consultations, name="consultations"),
    path("consultations/<int:pk>/", views.consultation, name="consultation"),
    path("agency/", views.manage, name="manage"),
    path("agency/new/", views.manage_new, name="manage_new"),
    path("agency/<int:pk>/", views.manage_detail, name="manage_detail"),
    path("moderation/", views.moderation, name="moderation"),
    re_path(
        r"^moderation/(?P<kind>suggestion|comment)/(?P<pk>\d+)/$",
        views.moderate,
        name="moderate",
    ),
]
