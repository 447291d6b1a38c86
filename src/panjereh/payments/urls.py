from django.urls import path

from . import bill_views, views

app_name = "payments"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("finance/", views.finance, name="finance"),
    path("callback/<slug:provider>/", views.callback, name="callback"),
    # Bills: before "<reference>/", which would take "bills" for a payment reference.
    path("bills/", bill_views.pay_bill, name="bills"),
    path("bills/back/<str:purpose_id>/", bill_views.bill_return, name="bill-return"),
    path("bills/<str:reference>/", bill_views.bill, name="bill"),
    path("<str:reference>/", views.payment, name="payment"),
]
