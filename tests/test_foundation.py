"""The foundation's contract: settings from the environment, the `panjereh` command, OpenAPI."""

import os
import subprocess
import sys

import pytest

PY = sys.executable


def _run(code: str, **env) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
    full_env.update(env)
    return subprocess.run(
        [PY, "-c", code], capture_output=True, text=True, env=full_env, timeout=60
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _run("import panjereh.conf.settings", PANJEREH_MODE="production")
    assert result.returncode != 0
    assert "PANJEREH_SECRET_KEY" in result.stderr


def test_production_turns_on_secure_cookies(tmp_path):
    result = _run(
        "import panjereh.conf.settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DEBUG)",
        PANJEREH_MODE="production",
        PANJEREH_SECRET_KEY="x" * 50,
        PANJEREH_VAR=str(tmp_path),
    )
    assert result.stdout.split() == ["True", "True", "False"], result.stderr


def test_database_url_is_read_from_the_environment(tmp_path):
    result = _run(
        "import panjereh.conf.settings as s; print(s.DATABASES['default']['ENGINE'])",
        DATABASE_URL="postgres://u@127.0.0.1:1/x",
        PANJEREH_VAR=str(tmp_path),
    )
    assert result.stdout.strip() == "django.db.backends.postgresql", result.stderr


def test_panjereh_command_lists_its_subcommands(tmp_path):
    result = subprocess.run(
        [PY, "-m", "panjereh", "help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PANJEREH_VAR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    for name in ("demo", "serve", "seed", "catalogue"):
        assert f"    {name}\n" in result.stdout


@pytest.mark.django_db
def test_openapi_schema_is_generated_from_the_code(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/catalogue/stats/" in schema["paths"]
