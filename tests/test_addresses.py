"""One setting names the exchange for every caller; a caller's own setting overrides it.

Each is read through panjereh.common.conf: a Django setting (not None) wins over the
environment variable of the same name."""

from panjereh.common.addresses import exchange_url


def test_exchange_address_precedence(settings, monkeypatch):
    monkeypatch.delenv("PANJEREH_EXCHANGE_URL", raising=False)
    monkeypatch.delenv("PANJEREH_SERVICES_EXCHANGE_URL", raising=False)
    settings.PUBLIC_BASE_URL = "http://window.example/"
    settings.PANJEREH_SERVICES_EXCHANGE_URL = None  # not set in the settings
    settings.PANJEREH_EXCHANGE_URL = None
    assert exchange_url("PANJEREH_SERVICES_EXCHANGE_URL") == "http://window.example"
    monkeypatch.setenv("PANJEREH_EXCHANGE_URL", "http://nix.example/")
    assert exchange_url("PANJEREH_SERVICES_EXCHANGE_URL") == "http://nix.example"
    settings.PANJEREH_SERVICES_EXCHANGE_URL = "http://other.example"
    assert exchange_url("PANJEREH_SERVICES_EXCHANGE_URL") == "http://other.example"
    assert exchange_url() == "http://nix.example"
    settings.PANJEREH_EXCHANGE_URL = "http://setting.example/"  # the setting wins
    assert exchange_url() == "http://setting.example"
