"""Keys derived from the secret key: Django's salted_hmac with a salt per purpose, except where
a derived value is stored or shown to others and must not change."""

from __future__ import annotations

import base64
import hashlib
import json
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet

from panjereh.identity import oidc, otp
from panjereh.identity.models import ClientProfile
from panjereh.services import keys
from panjereh.services.models import AgencyKey
from tests.factories import make_agency

SECRET = "a fixed secret for this test"


class _Window:
    client_id = "window-1"

    @property
    def panjereh_profile(self):
        raise ClientProfile.DoesNotExist


def test_the_pairwise_subject_agency_windows_stored_never_changes(settings, monkeypatch):
    monkeypatch.delenv("PANJEREH_PAIRWISE_SALT", raising=False)
    settings.SECRET_KEY = SECRET
    # Computed with the derivation every agency window's stored `sub` came from.
    expected = "HqMkxtS7EzT02s_GE9GHNGNGrCUaWVYYHeY_Qo9muRQ"
    assert oidc.pairwise_subject(SimpleNamespace(pk=42), _Window()) == expected
    settings.PANJEREH_PAIRWISE_SALT = "another salt"
    assert oidc.pairwise_subject(SimpleNamespace(pk=42), _Window()) != expected


def test_one_time_code_hashes_are_keyed_by_a_salt_of_their_own(settings):
    settings.SECRET_KEY = SECRET
    first = otp._hash("subject", "123456")
    assert first == otp._hash("subject", "123456")
    assert first != otp._hash("subject", "123457")
    plain = hashlib.sha256(b"panjereh-otp:" + SECRET.encode()).hexdigest()
    assert first != plain
    settings.SECRET_KEY = SECRET + "2"
    assert otp._hash("subject", "123456") != first


@pytest.mark.django_db
def test_agency_keys_encrypted_before_salted_hmac_still_decrypt(settings):
    settings.SECRET_KEY = SECRET
    agency = make_agency()
    row = keys.create_key(agency, AgencyKey.Use.SIGN)
    data = json.loads(keys._fernet().decrypt(row.private_encrypted.encode()))
    earlier = Fernet(
        base64.urlsafe_b64encode(
            hashlib.sha256(b"panjereh-services-keys:" + SECRET.encode()).digest()
        )
    )
    # A new row is not encrypted under the earlier key...
    with pytest.raises(Exception):  # noqa: B017, PT011 - cryptography's InvalidToken
        earlier.decrypt(row.private_encrypted.encode())
    # ...and a row written under it (before this change) still decrypts.
    old = AgencyKey.objects.create(
        agency=agency,
        use=AgencyKey.Use.EXCHANGE,
        kid="old-1",
        public_jwk={},
        private_encrypted=earlier.encrypt(json.dumps(data).encode()).decode(),
    )
    assert keys.private_key(old).kid == row.kid
