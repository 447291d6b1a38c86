from django.shortcuts import render

from panjereh.catalogue import queries


def home(request):
    return render(request, "portal/home.html", {"stats": queries.stats()})
