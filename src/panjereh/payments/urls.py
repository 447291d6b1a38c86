from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("finance/", views.finance, name="finance"),
    path("callback/<slug:provider>/", views.callback, name="callback"),
    path("<str:reference>/", views.payment, name="payment"),
]
