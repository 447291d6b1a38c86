"""The gateway process's WSGI application (``panjereh serve --app gateway``): Django's handler
under ``panjereh.conf.gateway_settings`` (the programs' URL map, the security and common
middleware only)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.gateway_settings")

application = get_wsgi_application()
