"""The ``panjereh`` command: Django's management commands under one name.

``panjereh demo``, ``panjereh serve``, ``panjereh seed --profile national``,
``panjereh catalogue stats --format json`` and every other management command
(``panjereh migrate``, ``panjereh createsuperuser``) run through here.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["portals"]:  # the simulated permit portals: another organisation, no Django
        from panjereh.portals.supervisor import main as portals

        sys.exit(portals(args[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["panjereh", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
