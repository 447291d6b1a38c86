from django.urls import include, path

from . import views

app_name = "services"

urlpatterns = [
    path("", views.my_applications, name="mine"),
    path("apply/<slug:code>/", views.apply, name="apply"),
    path("a/<str:tracking_code>/", views.detail, name="detail"),
    path("a/<str:tracking_code>/status.json", views.status_json, name="status"),
    path("a/<str:tracking_code>/rate/", views.rate, name="rate"),
    path("a/<str:tracking_code>/pay/", views.pay, name="pay"),
    path("a/<str:tracking_code>/withdraw/", views.withdraw, name="withdraw"),
    path("a/<str:tracking_code>/files/<int:pk>/", views.upload_file, name="upload"),
    path("handover/<str:service_id>/", views.handover, name="handover"),
    path("documents/<str:number>.pdf", views.document_pdf, name="document_pdf"),
    path("documents/<str:number>.jws", views.document_token, name="document_token"),
    path("receipts/<str:number>.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("verify/", views.verify, name="verify"),
    path("agency/", views.agency_queue, name="agency_queue"),
    path("agency/a/<str:tracking_code>/", views.agency_detail, name="agency_detail"),
    path("designer/", include("panjereh.services.designer_urls")),
]
