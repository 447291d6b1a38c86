"""The citizen API's authorisation matrix: every endpoint answers about the token's person
only (another person's object: 404, the same as one that does not exist); no token, an
expired or a revoked one: 401; a token without the ``citizen`` scope: 403."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken

from panjereh.identity.clients import register_agency_client

from .conftest import body, call, token_for

pytestmark = pytest.mark.django_db

LISTS = [
    "profile/",
    "applications/",
    "messages/",
    "notices/",
    "documents/",
    "appointments/",
    "payments-due/",
    "services/",
]


def objects(held) -> list[tuple[str, str]]:
    """(method, path) of every endpoint about one of ``held``'s objects."""
    return [
        ("get", f"applications/{held.application}/"),
        ("get", f"messages/{held.message}/"),
        ("get", f"notices/{held.notice}/"),
        ("post", f"notices/{held.notice}/opened/"),
        ("get", f"documents/{held.document}/"),
        ("get", f"documents/{held.document}/token/"),
        ("get", f"documents/{held.document}/pdf/"),
        ("get", f"appointments/{held.appointment}/"),
    ]


def test_every_object_answers_its_owner(client, people):
    me, _them = people
    for method, path in objects(me):
        response = call(client, method, path, me.token)
        assert response.status_code == 200, (path, response.content[:300])


def test_another_persons_objects_answer_404_like_nothing_at_all(client, people):
    me, them = people
    for method, path in objects(them):
        response = call(client, method, path, me.token)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json"
        assert body(response)["code"] == "not_found"
    # Well-formed references that name nothing: the same answer as another person's object.
    missing = [
        ("get", "applications/999999-00000000/"),
        ("get", "messages/999999999/"),
        ("get", "notices/NXXXXXXXXXXX/"),
        ("post", "notices/NXXXXXXXXXXX/opened/"),
        ("get", "documents/cert-NOPE/"),
        ("get", "documents/cert-NOPE/token/"),
        ("get", "documents/cert-NOPE/pdf/"),
        ("get", "appointments/NOPE/"),
    ]
    theirs = body(call(client, "get", f"applications/{them.application}/", me.token))
    for method, path in missing:
        response = call(client, method, path, me.token)
        assert response.status_code == 404, path
        assert body(response) == theirs


def test_another_persons_notice_is_not_opened_by_trying(client, people):
    from panjereh.mailbox.models import Notice

    me, them = people
    call(client, "post", f"notices/{them.notice}/opened/", me.token)
    assert Notice.objects.get(reference=them.notice).opened_at is None


def test_lists_hold_only_the_persons_own(client, people):
    from panjereh.inbox.models import Message

    me, them = people
    lists = {
        "applications/": ("tracking_code", "application"),
        "messages/": ("id", "message"),
        "notices/": ("reference", "notice"),
        "documents/": ("reference", "document"),
        "appointments/": ("reference", "appointment"),
    }
    for path, (key, attribute) in lists.items():
        mine = [row[key] for row in body(call(client, "get", path, me.token))["results"]]
        assert getattr(me, attribute) in mine, path
        assert getattr(them, attribute) not in mine, path
    messages = [m["id"] for m in body(call(client, "get", "messages/", me.token))["results"]]
    assert set(messages) == set(Message.objects.filter(user=me.user).values_list("pk", flat=True))


@pytest.mark.parametrize("path", LISTS)
def test_no_token_answers_401_with_a_bearer_challenge(client, people, path):
    response = call(client, "get", path, None)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert body(response)["code"] == "not_authenticated"


def test_expired_revoked_and_unknown_tokens_answer_401(client, people, app_client):
    me, _them = people
    expired = token_for(me.user, app_client, expires=timezone.now() - dt.timedelta(seconds=1))
    assert call(client, "get", "profile/", expired).status_code == 401
    assert call(client, "get", "profile/", "not-a-token").status_code == 401
    assert call(client, "get", "profile/", me.token).status_code == 200
    AccessToken.objects.get(
        token_checksum__isnull=False, user=me.user, expires__gt=timezone.now()
    ).revoke()
    assert call(client, "get", "profile/", me.token).status_code == 401
    # A token in the query string is not read.
    assert client.get(f"/api/me/v1/profile/?access_token={me.token}").status_code == 401


def test_a_token_without_the_citizen_scope_answers_403(client, people, app_client):
    me, _them = people
    narrow = token_for(me.user, app_client, scope="openid profile")
    for path in LISTS:
        response = call(client, "get", path, narrow)
        assert response.status_code == 403, path
        assert body(response)["code"] == "insufficient_scope"
    # An agency window's token for the same person, even naming the scope, is refused too:
    # the scope is the app's (and the provider never grants it to another client).
    window, _secret = register_agency_client(
        "پنجره دستگاه", ["https://window.example/cb"], client_id="w"
    )
    theirs = token_for(me.user, window, scope="openid profile")
    assert call(client, "get", "profile/", theirs).status_code == 403
    from panjereh.identity.oidc import ClientScopes

    assert "citizen" not in ClientScopes().get_available_scopes(window)
    assert "citizen" in ClientScopes().get_available_scopes(app_client)


def test_profile_masks_the_codes(client, people):
    me, _them = people
    data = body(call(client, "get", "profile/", me.token))
    assert data["national_code_masked"] == "*******" + me.user.national_code[-3:]
    assert data["mobile_masked"] == me.user.mobile[:4] + "***" + me.user.mobile[-4:]
    assert data["assurance_level"] == 2
    assert me.user.national_code not in str(data)


def test_unknown_addresses_under_the_api_are_problems(client, people):
    me, _them = people
    response = call(client, "get", "nothing-here/", me.token)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
