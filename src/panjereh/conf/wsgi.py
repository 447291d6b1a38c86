"""The portal's WSGI application: Django's handler with the full middleware stack.

It serves the whole URL map, the exchange gateway (``/r1/``) and the OpenID Connect endpoints
included, so the demo is one process. In production the endpoints only programs call run as a
process of their own with their own, shorter stack (``panjereh.conf.gateway_wsgi``, served by
``panjereh serve --app gateway``), as X-Road runs its security server beside the portal.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")

application = get_wsgi_application()
