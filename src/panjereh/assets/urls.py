from django.urls import path

from . import views

app_name = "assets"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.inquiry, name="inquiry"),
    path("<int:pk>/freeze/", views.freeze, name="freeze"),
    path("letters/", views.letters, name="letters"),
]
