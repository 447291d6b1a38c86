"""The public transparency portal (Art. 9 system) and its open data, under ``/transparency/``."""

from django.urls import path

from . import views

app_name = "transparency"
urlpatterns = [
    path("", views.index, name="index"),
    path("agencies/", views.agency_list, name="agencies"),
    path("agencies/<slug:code>/", views.agency_detail, name="agency"),
    path("not-offered/", views.not_offered, name="not_offered"),
    path("services/", views.service_performance, name="services"),
    path("services/<str:service_id>/", views.service_performance_detail, name="service"),
    path("ranking/", views.ranking, name="ranking"),
    path("permits/", views.permit_authorities, name="permits"),
    path("deadlines/", views.deadlines, name="deadlines"),
    path("indicators/", views.indicator_definitions, name="indicators"),
    path("reports/", views.reports_index, name="reports"),
    path("reports/quarterly/<int:year>/<int:quarter>/", views.quarterly_report, name="quarterly"),
    path(
        "reports/quarterly/<int:year>/<int:quarter>/report.pdf",
        views.quarterly_report_pdf,
        name="quarterly_pdf",
    ),
    path("open-data/", views.open_data, name="open_data"),
    path("open-data/agencies.csv", views.open_data_csv, name="open_data_csv"),
    path("open-data/agencies.json", views.open_data_json, name="open_data_json"),
    path("open-data/services.csv", views.open_data_services_csv, name="open_data_services_csv"),
    path("open-data/services.json", views.open_data_services_json, name="open_data_services_json"),
    path("open-data/fees.csv", views.open_data_fees_csv, name="open_data_fees_csv"),
    path("open-data/fees.json", views.open_data_fees_json, name="open_data_fees_json"),
    path("open-data/permits.csv", views.open_data_permits_csv, name="open_data_permits_csv"),
    path("open-data/permits.json", views.open_data_permits_json, name="open_data_permits_json"),
    path("open-data/datapackage.json", views.open_data_package, name="open_data_package"),
    path("open-data/dcat.jsonld", views.open_data_dcat, name="open_data_dcat"),
]
