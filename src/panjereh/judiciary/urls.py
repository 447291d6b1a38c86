from django.urls import path

from . import views_cases

app_name = "judiciary"

urlpatterns: list = [
    path("cases/", views_cases.case_list, name="cases"),
    path("cases/<str:number>/", views_cases.case_page, name="case"),
]
