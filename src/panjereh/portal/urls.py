from django.urls import path

from . import views, views_pwa

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("agencies/<slug:code>/", views.agency_detail, name="agency"),
    path("services/<str:key>/", views.service_detail, name="service"),
    path("life-events/", views.life_events, name="life_events"),
    path("life-events/<slug:code>/", views.life_event_detail, name="life_event"),
    path("once-only/", views.once_only, name="once_only"),
    path("offline/", views_pwa.offline, name="offline"),
    path("manifest.webmanifest", views_pwa.manifest, name="manifest"),
]
