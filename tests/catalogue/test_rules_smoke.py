import pytest
from django.core.exceptions import ValidationError

from panjereh.catalogue.rules import is_valid_service_id, make_service_id
from tests.factories import make_agency, make_service

pytestmark = pytest.mark.django_db


def test_service_id_check_digit():
    sid = make_service_id("123456789")
    assert is_valid_service_id(sid)
    assert not is_valid_service_id(sid[:-1] + str((int(sid[-1]) + 1) % 10))


def test_each_write_records_a_version():
    service = make_service()
    assert service.version == 1
    assert service.versions.count() == 1


def test_service_without_id_cannot_be_connected():
    with pytest.raises(ValidationError) as info:
        make_service(make_agency(), service_id=None, connected=True)
    assert "connected" in info.value.message_dict
