"""What `panjereh demo` prints must work: the sample citizens qualify for what it says."""

import base64
import os
import subprocess
import sys

from panjereh.demo.management.commands.demo import sample_citizens, write_photos
from panjereh.registries.population import Population


def test_sample_citizens_can_get_the_certificates_printed_next_to_them(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    citizens = sample_citizens("small")
    assert {c["service"] for c in citizens} == {
        "student-status",
        "veteran-status",
        "no-criminal-record",
    }
    people = Population(size=10_000)
    for citizen in citizens:
        i = citizen["index"]
        assert people.national_code(i) == citizen["national_code"]
        assert people.mobile(i) == citizen["mobile"]
        assert people.person(i)["age"] >= 20
    student = next(c for c in citizens if c["service"] == "student-status")
    assert people.student_status(student["index"])["enrolled"]
    veteran = next(c for c in citizens if c["service"] == "veteran-status")
    assert people.veteran_status(veteran["index"])["is_veteran"]

    folder = write_photos("small", citizens)
    for citizen in citizens:
        registry = people.civil_photo(citizen["index"])["photo"].split(",", 1)[1]
        saved = (folder / f"{citizen['national_code']}.svg").read_bytes()
        assert saved == base64.b64decode(registry)


def _pems() -> dict[str, str]:
    """A fresh RSA and EC key, as production reads them from the environment."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    def pem(key) -> str:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    return {
        "PANJEREH_OIDC_KEY": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "PANJEREH_OIDC_EC_KEY": pem(ec.generate_private_key(ec.SECP256R1())),
    }


def _panjereh_help(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "panjereh", "help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**clean, "PANJEREH_VAR": str(tmp_path), **env},
    )


def test_production_installs_no_demo_app_and_has_no_demo_commands(tmp_path):
    result = _panjereh_help(
        tmp_path, PANJEREH_MODE="production", PANJEREH_SECRET_KEY="x" * 50, **_pems()
    )
    assert result.returncode == 0, result.stderr
    assert "[demo]" not in result.stdout
    for name in ("demo", "demo_accounts", "seed"):
        assert f"    {name}\n" not in result.stdout
    for name in ("serve", "catalogue", "services"):
        assert f"    {name}\n" in result.stdout


def test_the_demo_mode_has_the_demo_commands(tmp_path):
    result = _panjereh_help(tmp_path, PANJEREH_MODE="demo")
    assert result.returncode == 0, result.stderr
    assert "[demo]" in result.stdout
    for name in ("demo", "demo_accounts", "seed"):
        assert f"    {name}\n" in result.stdout
