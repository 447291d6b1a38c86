from django.urls import path

from . import views

app_name = "appointments"

urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.mine, name="mine"),
    path("staff/", views.staff, name="staff"),
    path("staff/slots/", views.slots, name="slots"),
    path("staff/<str:reference>/mark/", views.mark, name="mark"),
    path("wait/<int:pk>/leave/", views.leave_wait, name="leave_wait"),
    path("o/<str:code>/", views.office, name="office"),
    path("b/<str:reference>/", views.booking, name="booking"),
    path("b/<str:reference>/confirm/", views.confirm, name="confirm"),
    path("b/<str:reference>/cancel/", views.cancel, name="cancel"),
]
