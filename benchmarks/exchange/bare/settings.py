"""The bare forwarder's settings: the gateway process's own (middleware, database, cache,
logging) with a URL map of one forwarding view, so that only the gateway's checks and log
differ between the two servers."""

from panjereh.conf.gateway_settings import *  # noqa: F403

ROOT_URLCONF = "bare.urls"
