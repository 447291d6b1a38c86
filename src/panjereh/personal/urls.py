from django.urls import path

from . import views

app_name = "personal"

urlpatterns = [
    path("", views.home, name="home"),
    path("documents/", views.documents, name="documents"),
    path("documents/<str:reference>/", views.document, name="document"),
    path("documents/<str:reference>/token.jws", views.document_token, name="document_token"),
    path("documents/<str:reference>/share/", views.share, name="share"),
    path("shares/", views.shares, name="shares"),
    path("shares/<int:pk>/revoke/", views.revoke, name="revoke"),
]
