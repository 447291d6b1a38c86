"""The settings have one reader (panjereh.common.conf): a Django setting wins over the
environment, importing the settings writes no file, key files are created once and never
overwritten, and every PANJEREH_* name the code reads is documented in docs/operations.md."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from panjereh.common import conf, keyfiles
from panjereh.exchange import conf as exchange_conf
from panjereh.status import conf as status_conf

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "panjereh"
DOCS = ROOT / "docs" / "operations.md"


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
    full_env.pop("DJANGO_SETTINGS_MODULE", None)
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=120
    )


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


# -- importing the settings ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["demo", "test"])
def test_importing_the_settings_writes_no_file(tmp_path, mode):
    var = tmp_path / "var"
    done = _python(
        "import panjereh.conf.settings as s;"
        "print(bool(s.OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY']), bool(s.PANJEREH_OIDC_EC_KEY))",
        PANJEREH_MODE=mode,
        PANJEREH_VAR=str(var),
        PANJEREH_HOME=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]  # nothing there yet, nothing created
    assert _files(tmp_path) == []


def test_the_demo_keys_are_created_when_django_starts_and_read_by_the_settings_after(tmp_path):
    var = tmp_path / "var"
    start = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'panjereh.conf.settings';"
        "django.setup();"
        "from django.conf import settings;"
        "from oauth2_provider.settings import oauth2_settings;"
        "print(oauth2_settings.OIDC_RSA_PRIVATE_KEY == settings.OAUTH2_PROVIDER"
        "['OIDC_RSA_PRIVATE_KEY'] != '', bool(settings.PANJEREH_OIDC_EC_KEY))"
    )
    done = _python(start, PANJEREH_MODE="demo", PANJEREH_VAR=str(var))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
    rsa = var / "oidc" / "signing-key.pem"
    ec = var / "oidc" / "signing-key-es256.pem"
    assert rsa.stat().st_mode & 0o777 == 0o600
    assert ec.stat().st_mode & 0o777 == 0o600
    first = (rsa.read_text(), ec.read_text())

    again = _python(
        "import panjereh.conf.settings as s;"
        "print(repr(s.OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY']), repr(s.PANJEREH_OIDC_EC_KEY))",
        PANJEREH_MODE="demo",
        PANJEREH_VAR=str(var),
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"{first[0]!r} {first[1]!r}"  # the same keys, only read


def test_production_creates_no_key_and_refuses_to_start_without_one(tmp_path):
    var = tmp_path / "var"
    done = _python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'panjereh.conf.settings';"
        "django.setup()",
        PANJEREH_MODE="production",
        PANJEREH_SECRET_KEY="x" * 50,
        PANJEREH_VAR=str(var),
    )
    assert done.returncode != 0
    assert "PANJEREH_OIDC_KEY" in done.stderr
    assert not (var / "oidc").exists()


# -- key files -------------------------------------------------------------------------------


def test_a_key_file_is_never_overwritten(tmp_path):
    path = tmp_path / "keys" / "k.pem"
    assert keyfiles.create(path, b"first")
    assert not keyfiles.create(path, b"second")
    assert path.read_bytes() == b"first"
    assert path.stat().st_mode & 0o777 == 0o600
    assert _files(tmp_path) == [path]  # no temporary file left behind


def test_processes_starting_at_once_all_read_the_one_key_that_won(tmp_path):
    path = tmp_path / "k.pem"
    code = (
        "import os, sys, django;"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'panjereh.conf.settings';"
        "from django.conf import settings; settings.configure(MODE='demo');"
        "from panjereh.common import keyfiles;"
        "print(keyfiles.load_or_create('PANJEREH_TEST_KEY', sys.argv[1],"
        " lambda: os.urandom(16).hex().encode()))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PANJEREH_TEST_KEY"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(6)
    ]
    outputs = {process.communicate(timeout=120)[0] for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert outputs == {path.read_text() + "\n"}
    assert _files(tmp_path) == [path]


def test_a_key_from_the_environment_wins_and_production_never_uses_a_file(
    tmp_path, monkeypatch, settings
):
    path = tmp_path / "k.pem"
    path.write_text("from the file")
    monkeypatch.setenv("PANJEREH_TEST_KEY", " from the environment ")
    assert keyfiles.load_or_create("PANJEREH_TEST_KEY", path, bytes) == "from the environment\n"
    monkeypatch.delenv("PANJEREH_TEST_KEY")
    assert keyfiles.load_or_create("PANJEREH_TEST_KEY", path, bytes) == "from the file"
    settings.MODE = "production"
    with pytest.raises(ImproperlyConfigured, match="PANJEREH_TEST_KEY must be set"):
        keyfiles.load_or_create("PANJEREH_TEST_KEY", path, bytes)
    with pytest.raises(ImproperlyConfigured, match="PANJEREH_TEST_KEY must be set"):
        keyfiles.load_or_create("PANJEREH_TEST_KEY", tmp_path / "absent.pem", bytes)
    assert not (tmp_path / "absent.pem").exists()


# -- precedence ------------------------------------------------------------------------------


def test_a_django_setting_wins_over_the_environment(monkeypatch, settings):
    monkeypatch.setenv("PANJEREH_STATUS_TIMEOUT", "9")
    monkeypatch.setenv("PANJEREH_EXCHANGE_RETRIES", "4")
    status_conf.SECTION.clear()
    exchange_conf.clear()
    assert status_conf.get("TIMEOUT") == 9.0  # the environment, as the default's type
    assert exchange_conf.get("RETRIES") == 4
    settings.PANJEREH_STATUS_TIMEOUT = 2.5
    settings.PANJEREH_EXCHANGE_RETRIES = 0
    assert status_conf.get("TIMEOUT") == 2.5
    assert exchange_conf.get("RETRIES") == 0
    assert conf.setting("PANJEREH_EXCHANGE_RETRIES", 1) == 0


def test_the_tests_turn_background_sealing_off_through_the_settings(settings):
    assert settings.PANJEREH_EXCHANGE_SEAL_INTERVAL == 0
    assert exchange_conf.get("SEAL_INTERVAL") == 0
    assert exchange_conf.DEFAULTS["SEAL_INTERVAL"] == 5.0
    offenders = [p for p in SRC.rglob("*.py") if "PYTEST_CURRENT_TEST" in p.read_text()]
    assert offenders == []


# The process start-up that may read the environment itself: the settings module, the
# DJANGO_SETTINGS_MODULE default of the entry points, and `panjereh serve`/`panjereh demo`.
ENVIRONMENT_READERS = {
    "common/conf.py",
    "conf/settings.py",
    "conf/settings_test.py",
    "conf/wsgi.py",
    "conf/gateway_wsgi.py",
    "conf/celery.py",
    "cli.py",
    "common/management/commands/serve.py",
    "demo/management/commands/demo.py",
    # The demo's start-up telling the processes it starts where its simulated bank listens.
    "demo/payments.py",
    # The demo's start-up telling the processes it starts where its permit portals listen.
    "demo/portals.py",
    # `panjereh portals`: the simulated permit portals' start-up, before Django (like cli.py).
    "portals/supervisor.py",
}


def test_only_the_reader_and_process_start_up_read_the_environment():
    readers = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if re.search(r"os\.environ|os\.getenv", path.read_text())
    }
    assert readers <= ENVIRONMENT_READERS, sorted(readers - ENVIRONMENT_READERS)


# -- documentation ---------------------------------------------------------------------------

NAME = r'"(PANJEREH_[A-Z0-9_]+)"'
READS = [
    re.compile(r"\bsetting\(\s*" + NAME),
    re.compile(r"\benv\(\s*" + NAME),
    re.compile(r"os\.environ\.get\(\s*" + NAME),
    re.compile(r"os\.environ\[\s*" + NAME),
    re.compile(r"getattr\(\s*settings,\s*" + NAME),
]
SECTION = re.compile(r"^(\w+)\s*=\s*Section\(", re.MULTILINE)


def names_read_in_src() -> set[str]:
    """Every PANJEREH_* name the code reads, found in the source as it is now."""
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        for pattern in READS:
            names.update(pattern.findall(text))
        for attribute in SECTION.findall(text):
            module = ".".join(("panjereh", *path.relative_to(SRC).with_suffix("").parts))
            section = getattr(importlib.import_module(module), attribute)
            names.update(section.prefix + key for key in section.defaults)
    return names


def test_every_setting_the_code_reads_is_documented():
    documented = DOCS.read_text()
    names = names_read_in_src()
    assert len(names) > 40  # the search found the readers
    missing = sorted(n for n in names if not re.search(rf"\b{n}\b", documented))
    assert missing == [], f"not in docs/operations.md: {missing}"
