from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [
    path("my-data/", views.my_data_accesses, name="my-data"),
    # The back office (staff): see views.py for who may do what.
    path("", views.index, name="index"),
    path("services/", views.provider_services, name="provider-services"),
    path("services/<int:pk>/", views.data_service, name="data-service"),
    path("grants/", views.consumer_grants, name="consumer-grants"),
    path("grants/request/", views.request_catalogue, name="request-catalogue"),
    path("grants/request/<int:service_pk>/", views.request_grant, name="request-grant"),
    path("grants/<int:pk>/", views.grant_detail, name="grant"),
    path("review/", views.wg_queue, name="wg-queue"),
    path("review/<int:pk>/approve/", views.approve, name="approve"),
    path("review/<int:pk>/reject/", views.reject, name="reject"),
    path("review/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("statistics/", views.statistics, name="statistics"),
]
