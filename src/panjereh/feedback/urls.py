from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("rate/<str:tracking_code>/", views.rate, name="rate"),
    path("ratings/<int:pk>/escalate/", views.escalate, name="escalate"),
    path("ratings/<int:pk>/escalation/", views.escalation, name="escalation"),
    path("complaints/new/", views.complaint_new, name="complaint_new"),
    path("complaints/payment/", views.report_payment, name="report-payment"),
    path("complaints/permit/", views.report_permit, name="report-permit"),
    path("complaints/<str:tracking_code>/", views.complaint, name="complaint"),
    path("complaints/<str:tracking_code>/evidence/<int:pk>/", views.evidence, name="evidence"),
    path("agency/", views.agency_queue, name="agency_queue"),
    path("agency/ratings/<int:pk>/", views.agency_rating, name="agency_rating"),
    path("oversight/", views.oversight, name="oversight"),
    path("public/", views.public, name="public"),
]
