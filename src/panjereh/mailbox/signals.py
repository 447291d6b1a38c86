"""Notices kept for a person who had not signed up are made available when they sign in."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def deliver_on_sign_in(sender, request=None, user=None, **kwargs) -> None:
    from . import operations

    try:
        operations.deliver_held(user)
    except Exception:  # noqa: BLE001 -- never stop a sign-in; the mailbox page delivers too
        log.exception("held notices of user %s not delivered at sign-in", getattr(user, "pk", ""))
