"""The one reader of Panjereh's settings.

Every ``PANJEREH_*`` setting is read here, in one order of precedence:

1. the Django setting of that name, if the settings module (or a test's
   ``override_settings``) gives it a value other than ``None``;
2. otherwise the environment variable of the same name;
3. otherwise the documented default.

A value from the environment is converted to the type of the default (``bool`` accepts
``1/true/yes/on``; a ``list`` or ``tuple`` default reads a comma-separated list). Nothing here
writes a file or caches across a settings change: :class:`Section` keeps values only until
Django's ``setting_changed`` signal says one changed.

``conf/settings.py`` uses :func:`env` (Django is not configured yet while it runs); every other
module uses :func:`setting` or a :class:`Section`. docs/operations.md lists every name.
"""

from __future__ import annotations

import os
from typing import Any

_TRUE = {"1", "true", "yes", "on"}


def convert(raw: str, default: Any) -> Any:
    """Convert the text of an environment variable to the type of ``default``."""
    if isinstance(default, bool):
        return raw.strip().lower() in _TRUE
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, (list, tuple)):
        return type(default)(item.strip() for item in raw.split(",") if item.strip())
    return raw


def env(name: str, default: Any = "") -> Any:
    """The environment variable ``name`` converted to the type of ``default``, or ``default``.

    For the settings module only; everywhere else use :func:`setting`, so that Django settings
    win over the environment.
    """
    raw = os.environ.get(name)
    if raw is None:
        return default
    return convert(raw, default)


def setting(name: str, default: Any = "") -> Any:
    """The Django setting ``name`` if set (not ``None``), else the environment, else default."""
    from django.conf import settings

    value = getattr(settings, name, None)
    if value is not None:
        return value
    return env(name, default)


class Section:
    """The settings of one part of the system, ``<prefix><NAME>``, with documented defaults.

    Values are looked up once and kept until a setting changes (Django's ``setting_changed``
    signal, sent by ``override_settings``), because some are read several times per request.
    """

    def __init__(self, prefix: str, defaults: dict[str, Any]) -> None:
        self.prefix = prefix
        self.defaults = defaults
        self._values: dict[str, Any] = {}
        from django.core.signals import setting_changed

        setting_changed.connect(self.clear, weak=False, dispatch_uid=f"panjereh-conf-{prefix}")

    def get(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            pass
        value = setting(self.prefix + name, self.defaults[name])
        self._values[name] = value
        return value

    def clear(self, **_kwargs: Any) -> None:
        self._values.clear()
