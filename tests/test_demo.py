"""What `panjereh demo` prints must work: the sample citizens qualify for what it says."""

import base64

from panjereh.common.management.commands.demo import sample_citizens, write_photos
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
