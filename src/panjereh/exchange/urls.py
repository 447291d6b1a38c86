from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [
    path("my-data/", views.my_data_accesses, name="my-data"),
]
