"""Settings for the test suite: the normal settings in test mode.

pytest-django imports settings before any conftest runs, so the mode is set here rather than
in a fixture. Child processes started by tests inherit ``PANJEREH_MODE`` from the environment.
"""

import os

os.environ.setdefault("PANJEREH_MODE", "test")

from panjereh.conf.settings import *  # noqa: E402,F403
