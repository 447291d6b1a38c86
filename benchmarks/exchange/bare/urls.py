from django.urls import path

from bare.views import forward

urlpatterns = [path("r1/<path:rest>", forward)]
