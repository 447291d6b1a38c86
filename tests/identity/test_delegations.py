"""The helpers form names nobody and answers the same for every national code; a helper is
named to the principal only after they accept; offers are rate limited."""

from __future__ import annotations

import re

from django.test import Client

from panjereh.common.persian import to_latin_digits
from panjereh.identity.models import Delegation

from .conftest import OTHER_CODE, make_citizen
from .helpers import national_code
from .test_signin import sign_in

HELPERS = "/account/helpers/"
UNREGISTERED = national_code("987654321")


def _offer(client: Client, code: str):
    return client.post(
        HELPERS, {"helper_national_code": code, "purpose": "پرداخت عوارض", "days": 3}, follow=True
    )


def _visible(html: str, code: str) -> str:
    html = to_latin_digits(html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r"/account/helpers/\d+/", "/account/helpers/N/", html)
    return html.replace(code[-3:], "CODE").replace(code, "CODE")


def test_the_helpers_form_answers_the_same_for_a_registered_and_an_unknown_code(db):
    make_citizen()
    make_citizen(OTHER_CODE, "09350000001", first_name="علی", last_name="کریمی")
    pages = []
    for code in (OTHER_CODE, UNREGISTERED):
        principal = Client()
        sign_in(principal)
        response = _offer(principal, code)
        assert response.status_code == 200
        pages.append(_visible(response.content.decode(), code))
        Delegation.objects.all().delete()
    assert "علی" not in pages[0] and "کریمی" not in pages[0]
    assert pages[0] == pages[1]


def test_a_helper_is_named_only_after_accepting(db):
    principal = make_citizen()
    helper = make_citizen(OTHER_CODE, "09350000001", first_name="علی", last_name="کریمی")
    as_principal, as_helper = Client(), Client()
    sign_in(as_principal)
    _offer(as_principal, OTHER_CODE)
    offer = Delegation.objects.get(principal=principal)
    assert offer.helper is None and not offer.is_active()
    # Before accepting, the helper cannot act, and the principal does not see the name.
    sign_in(as_helper, OTHER_CODE, "09350000001")
    assert as_helper.post(f"{HELPERS}{offer.pk}/act/").status_code == 404
    assert "کریمی" not in as_principal.get(HELPERS).content.decode()
    # Someone else cannot accept an offer made to another national code.
    stranger = Client()
    make_citizen(UNREGISTERED, "09130000009")
    sign_in(stranger, UNREGISTERED, "09130000009")
    stranger.post(f"{HELPERS}{offer.pk}/accept/")
    offer.refresh_from_db()
    assert offer.helper is None
    as_helper.post(f"{HELPERS}{offer.pk}/accept/")
    offer.refresh_from_db()
    assert offer.helper == helper and offer.is_active()
    assert "کریمی" in as_principal.get(HELPERS).content.decode()


def test_offering_helpers_is_rate_limited(db):
    make_citizen()
    principal = Client()
    sign_in(principal)
    codes = [national_code(f"1000000{n:02d}") for n in range(11)]
    for code in codes[:10]:
        assert _offer(principal, code).status_code == 200
    assert _offer(principal, codes[10]).status_code == 429
    assert Delegation.objects.count() == 10
