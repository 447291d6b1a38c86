from django.urls import path

from . import views_cases, views_sana

app_name = "judiciary"

urlpatterns: list = [
    path("", views_sana.home, name="home"),
    path("sana/", views_sana.sana_page, name="sana"),
    path("cases/", views_cases.case_list, name="cases"),
    path("cases/<str:number>/", views_cases.case_page, name="case"),
]
