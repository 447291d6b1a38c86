"""The window's settings (any mode) with production's static files: collected by WhiteNoise's
CompressedManifestStaticFilesStorage into STATIC_ROOT (content-hashed names, Brotli and gzip
copies) and served from there with a year's cache (benchmarks/phone/run.py)."""

from panjereh.conf.settings import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
