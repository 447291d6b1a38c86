from django.urls import path

from . import views_bills, views_cases, views_sana

app_name = "judiciary"

urlpatterns: list = [
    path("", views_sana.home, name="home"),
    path("sana/", views_sana.sana_page, name="sana"),
    path("cases/", views_cases.case_list, name="cases"),
    path("cases/<str:number>/", views_cases.case_page, name="case"),
    path("bills/", views_bills.catalogue, name="bills"),
    path("bills/new/<slug:template>/", views_bills.bill_new, name="bill-new"),
    path("bills/r/<str:reference>/", views_bills.bill, name="bill"),
    path("bills/r/<str:reference>/receipt.pdf", views_bills.bill_pdf, name="bill-pdf"),
]
