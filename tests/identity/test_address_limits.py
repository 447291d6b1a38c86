"""Rate limits by address trust only the configured reverse proxies, and a stranger cannot lock
a staff member out of their own account by typing wrong passwords for it."""

from __future__ import annotations

import time_machine
from django.test import Client, RequestFactory
from rest_framework.throttling import AnonRateThrottle

from panjereh.identity.models import User

LOGIN = "/account/login/"
ADMIN_LOGIN = "/admin/login/"
STAFF_PASSWORD = "a long staff password 1"


def _behind_tls_proxy(settings):
    # Production's settings: the proxy tells Django about HTTPS (which once switched on the
    # trust of X-Forwarded-For), no redirect in the test client.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = False


def test_rotating_forwarded_for_does_not_escape_the_address_limit(db, settings):
    _behind_tls_proxy(settings)
    settings.PANJEREH_TRUSTED_PROXIES = 0
    client = Client(REMOTE_ADDR="198.51.100.9")
    for n in range(30):
        client.post(LOGIN, {"national_code": "12"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = client.post(LOGIN, {"national_code": "12"}, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


def test_behind_one_proxy_only_the_address_it_saw_counts(db, settings):
    _behind_tls_proxy(settings)
    settings.PANJEREH_TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR="10.1.1.1")
    for n in range(30):
        # The client writes any first entry it likes; the proxy appends what it saw.
        proxy.post(LOGIN, {"national_code": "12"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7")
    locked = proxy.post(
        LOGIN, {"national_code": "12"}, HTTP_X_FORWARDED_FOR="192.0.2.200, 203.0.113.7"
    )
    assert locked.status_code == 429
    # Another person behind the same proxy is not locked with them.
    other = proxy.post(LOGIN, {"national_code": "12"}, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert other.status_code == 200


def test_api_throttle_ignores_a_client_written_forwarded_for(settings):
    request = RequestFactory().get(
        "/api/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="10.0.0.1"
    )
    assert AnonRateThrottle().get_ident(request) == "198.51.100.9"


def _staff():
    return User.objects.create_user("operator", password=STAFF_PASSWORD, is_staff=True)


def test_a_stranger_cannot_lock_staff_out_from_another_address(db):
    _staff()
    stranger = Client(REMOTE_ADDR="198.51.100.66")
    for _ in range(6):
        stranger.post(ADMIN_LOGIN, {"username": "operator", "password": "wrong password"})
    owner = Client(REMOTE_ADDR="203.0.113.10")
    owner.post(ADMIN_LOGIN, {"username": "operator", "password": STAFF_PASSWORD})
    assert "_auth_user_id" in owner.session
    # The stranger's own address stays locked for this username, even with the right password.
    stranger.post(ADMIN_LOGIN, {"username": "Operator", "password": STAFF_PASSWORD})
    assert "_auth_user_id" not in stranger.session


def test_guessing_from_many_addresses_meets_a_short_global_back_off(db):
    _staff()
    with time_machine.travel("2026-12-07 10:00:00+00:00", tick=False) as clock:
        for n in range(30):
            Client(REMOTE_ADDR=f"198.51.100.{n}").post(
                ADMIN_LOGIN, {"username": "operator", "password": "wrong password"}
            )
        owner = Client(REMOTE_ADDR="203.0.113.10")
        owner.post(ADMIN_LOGIN, {"username": "operator", "password": STAFF_PASSWORD})
        assert "_auth_user_id" not in owner.session
        clock.shift(6 * 60)  # the global back-off is minutes, not the per-address lock's window
        owner.post(ADMIN_LOGIN, {"username": "operator", "password": STAFF_PASSWORD})
        assert "_auth_user_id" in owner.session
