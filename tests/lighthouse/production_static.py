"""The static files as production serves them: collected by WhiteNoise's
CompressedManifestStaticFilesStorage (content-hashed names, gzip and Brotli copies) into a
folder of the test's, and served by WhiteNoise from there, without the finders."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings

PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


@contextlib.contextmanager
def production_static(root: Path, *, pages_only: bool = True) -> Iterator[Path]:
    """Within: the settings of PANJEREH_MODE=production's static files, collected into ``root``
    (the {% static %} tag then writes hashed names; a WhiteNoise middleware built within
    serves them with its headers). ``pages_only`` leaves out the back office's and the API
    browser's files (Django admin, DRF, oauth2_provider): compressing them is most of
    collectstatic's 20 seconds, and no public page uses them."""
    with override_settings(
        STATIC_ROOT=root,
        STORAGES=PRODUCTION_STORAGES,
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
    ):
        call_command(
            "collectstatic",
            interactive=False,
            verbosity=0,
            ignore_patterns=["admin", "rest_framework", "oauth2_provider"] if pages_only else [],
        )
        yield root
