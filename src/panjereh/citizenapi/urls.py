from django.urls import path, re_path

from . import api

app_name = "citizenapi"

urlpatterns = [
    path("profile/", api.ProfileView.as_view(), name="profile"),
    path("services/", api.ServicesView.as_view(), name="services"),
    path("applications/", api.ApplicationsView.as_view(), name="applications"),
    path("applications/<str:tracking_code>/", api.ApplicationView.as_view(), name="application"),
    path("messages/", api.MessagesView.as_view(), name="messages"),
    path("messages/<int:pk>/", api.MessageView.as_view(), name="message"),
    path("notices/", api.NoticesView.as_view(), name="notices"),
    path("notices/<str:reference>/", api.NoticeView.as_view(), name="notice"),
    path("notices/<str:reference>/opened/", api.NoticeOpenedView.as_view(), name="notice-opened"),
    path("documents/", api.DocumentsView.as_view(), name="documents"),
    path("documents/<str:reference>/", api.DocumentView.as_view(), name="document"),
    path(
        "documents/<str:reference>/token/",
        api.DocumentTokenView.as_view(),
        name="document-token",
    ),
    path("documents/<str:reference>/pdf/", api.DocumentPdfView.as_view(), name="document-pdf"),
    path("appointments/", api.AppointmentsView.as_view(), name="appointments"),
    path("appointments/<str:reference>/", api.AppointmentView.as_view(), name="appointment"),
    path("payments-due/", api.PaymentsDueView.as_view(), name="payments-due"),
    # [\s\S], not ".": an address with a newline in it is an address under the API too.
    re_path(r"^(?P<rest>[\s\S]*)$", api.not_found_anywhere),
]
