from django.urls import path

from . import views

app_name = "mailbox"

urlpatterns = [
    path("", views.mailbox, name="mailbox"),
    path("verify/", views.verify, name="verify"),
    path("<str:reference>/", views.notice, name="notice"),
    path("<str:reference>/files/<int:position>/", views.attachment, name="attachment"),
    path("<str:reference>/proof/", views.proof, name="proof"),
]
