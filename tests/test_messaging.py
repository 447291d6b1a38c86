"""One SMS client (a provider per module, named in PANJEREH_SMS_PROVIDER) and email through
Django's mail backends; the tests read what was sent from one place for each."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from panjereh.common import messaging
from panjereh.common.messaging import console, file


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_SMS_PROVIDER = None  # the mode's default unless a test names one
    return tmp_path


def test_the_mode_chooses_the_provider_when_no_setting_names_one(settings):
    settings.MODE = "demo"
    assert isinstance(messaging.sms_client(), console.Client)
    settings.MODE = "test"
    assert isinstance(messaging.sms_client(), file.Client)


def test_the_setting_names_the_providers_module(settings, capsys):
    settings.PANJEREH_SMS_PROVIDER = "console"
    messaging.send_sms("09121112233", "کد ورود: ۱۲۳۴۵۶")
    assert "[SMS to 09121112233] کد ورود: ۱۲۳۴۵۶" in capsys.readouterr().err
    assert messaging.sent_sms("09121112233") == []  # the console keeps nothing
    settings.PANJEREH_SMS_PROVIDER = "panjereh.common.messaging.file"
    messaging.send_sms("09121112233", "hello")
    assert [m["text"] for m in messaging.sent_sms("09121112233")] == ["hello"]


def test_an_operators_provider_is_one_module_named_in_the_setting(settings):
    settings.PANJEREH_SMS_PROVIDER = "tests.broken_sms"
    with pytest.raises(ConnectionError, match="gateway down"):
        messaging.send_sms("09121112233", "hello")


def test_the_old_backend_setting_is_ignored(settings):
    settings.PANJEREH_SMS_BACKEND = "no.such.Backend"
    messaging.send_sms("09121112233", "hello")
    assert messaging.sent_sms("09121112233")


@pytest.mark.parametrize("provider", ["file", "console", "panjereh.common.messaging.file"])
def test_production_refuses_the_providers_that_write_codes_in_clear(settings, provider):
    settings.MODE = "production"
    settings.PANJEREH_SMS_PROVIDER = provider
    with pytest.raises(ImproperlyConfigured, match="in clear"):
        messaging.send_sms("09121112233", "کد ورود: 123456")
    assert messaging.sent_sms("09121112233") == []


def test_production_has_no_default_provider(settings):
    settings.MODE = "production"
    with pytest.raises(ImproperlyConfigured, match="PANJEREH_SMS_PROVIDER"):
        messaging.send_sms("09121112233", "hello")
    settings.PANJEREH_SMS_PROVIDER = "tests.broken_sms"  # an operator's gateway is accepted
    assert messaging.sms_client().name == "broken"


def test_one_reader_of_the_sent_messages_oldest_first(settings):
    messaging.send_sms("09121112233", "first")
    messaging.send_sms("09121112233", "second", reference="inbox:7")
    messaging.send_sms("09350000000", "someone else")
    sent = messaging.sent_sms("09121112233")
    assert [(m["to"], m["text"], m["reference"]) for m in sent] == [
        ("09121112233", "first", None),
        ("09121112233", "second", "inbox:7"),
    ]
    assert all(m["at"] for m in sent)
    assert (settings.VAR_DIR / "sms" / "09121112233.jsonl").exists()


def test_email_goes_through_djangos_mail_backend(mailoutbox):
    messaging.send_email("a@example.org", "اطلاعیه\nرسمی", "متن")
    (email,) = mailoutbox
    assert email.to == ["a@example.org"]
    assert email.subject == "اطلاعیه رسمی"  # a header: no line break
    assert email.body == "متن"


def test_the_demo_writes_mail_to_files_and_production_sends_it_by_smtp(tmp_path):
    script = "import panjereh.conf.settings as s; print(s.EMAIL_BACKEND); print(s.EMAIL_FILE_PATH)"
    env = {**os.environ, "PANJEREH_VAR": str(tmp_path), "PANJEREH_MODE": "demo"}
    env.pop("EMAIL_BACKEND", None)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["django.core.mail.backends.filebased.EmailBackend", str(tmp_path / "mail")]
    env.update(PANJEREH_MODE="production", PANJEREH_SECRET_KEY="x" * 50)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    ).stdout.split()
    # production may refuse to start for other reasons here (keys); if it starts, it is SMTP
    assert not out or out[0] == "django.core.mail.backends.smtp.EmailBackend"
