"""Agency windows' clients are managed by the platform operator only; sessions survive a
second sign-in in the same browser; a new person on the browser ends the previous session."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.test import Client

from panjereh.catalogue.roles import ITO
from panjereh.identity.models import SsoSession, User
from panjereh.identity.oidc import SID_SESSION_KEY

from .conftest import OTHER_CODE, make_citizen
from .test_signin import sign_in

APPLICATIONS = "/admin/oauth2_provider/application/"


def staff(username: str, *, ito: bool) -> Client:
    user = User.objects.create_user(username, password="a long staff password 1", is_staff=True)
    # Even with every model permission, only the ITO role manages agency windows' clients.
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="oauth2_provider"))
    if ito:
        user.groups.add(Group.objects.get_or_create(name=ITO)[0])
    browser = Client()
    browser.force_login(user)
    return browser


def test_only_the_platform_operator_manages_clients(db):
    agency_staff = staff("agency-admin", ito=False)
    operator = staff("ito-operator", ito=True)
    assert agency_staff.get(APPLICATIONS).status_code == 403
    assert agency_staff.get(APPLICATIONS + "add/").status_code == 403
    assert operator.get(APPLICATIONS).status_code == 200
    page = operator.get(APPLICATIONS + "add/").content.decode()
    assert "redirect_uris" in page and "backchannel_logout_uri" in page


def test_second_sign_in_keeps_the_session(client, citizen):
    sign_in(client)
    sid = client.session[SID_SESSION_KEY]
    client.post("/account/login/", {"national_code": citizen.national_code})
    sign_in(client)
    assert client.session[SID_SESSION_KEY] == sid
    assert SsoSession.objects.filter(user=citizen).count() == 1


def test_another_person_on_the_browser_ends_the_session(client, citizen):
    sign_in(client)
    first = client.session[SID_SESSION_KEY]
    make_citizen(OTHER_CODE, "09350000001")
    sign_in(client, OTHER_CODE, "09350000001")
    assert client.session[SID_SESSION_KEY] != first
    assert SsoSession.objects.get(sid=first).ended_at is not None


def test_back_office_cannot_set_a_national_code(db):
    admin = User.objects.create_superuser("root", password="a long staff password 1")
    browser = Client()
    browser.force_login(admin)
    target = User.objects.create_user("clerk", password="a long staff password 1")
    page = browser.get(f"/admin/identity/user/{target.pk}/change/").content.decode()
    assert 'name="national_code"' not in page
    browser.post(
        f"/admin/identity/user/{target.pk}/change/",
        {"username": "clerk", "national_code": "0499370899", "date_joined_0": "1404-01-01"},
    )
    target.refresh_from_db()
    assert target.national_code is None
