"""Settings for the test suite: the normal settings in test mode.

pytest-django imports settings before any conftest runs, so the mode is set here rather than
in a fixture. Child processes started by tests inherit ``PANJEREH_MODE`` from the environment.
"""

import os

os.environ.setdefault("PANJEREH_MODE", "test")

from panjereh.conf.settings import *  # noqa: E402,F403

# scripts/test.sh migrates one template database on its throw-away PostgreSQL and names it here:
# each part of its PostgreSQL leg then makes its test database as a copy (CREATE DATABASE ...
# TEMPLATE, data migrations' rows included), and the migrate pytest-django runs finds nothing
# left to apply.
_template = os.environ.get("PANJEREH_TEST_DB_TEMPLATE", "")
if _template and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = _template  # noqa: F405
