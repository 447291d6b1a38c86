"""What each registry publishes: its data services, their paths and the data items they carry.

A registry serves this description as OpenAPI (``GET /openapi.json``) with the extension
``x-panjereh-items`` mapping each data item of the national vocabulary to the response fields
that carry it. The exchange reads the description over HTTP when it registers the provider, as
it would read a real agency's published description.
"""

from __future__ import annotations

from typing import Any

from .population import legal_person_check_digit
from .sana import SERVICES as SANA_SERVICES


def _member_code(n: int) -> str:
    # Exchange member codes are legal persons' 11-digit national IDs, with their check digit.
    body = f"{1010000000 + n:010d}"
    return body + str(legal_person_check_digit(body))


# registry: (member code in the exchange, Persian name, English name)
ORGANISATIONS: dict[str, tuple[str, str, str]] = {
    "civil": (
        _member_code(1),
        "سازمان ثبت احوال کشور",
        "National Organization for Civil Registration",
    ),
    "shahkar": (
        _member_code(2),
        "سامانه شاهکار (سازمان تنظیم مقررات)",
        "Shahkar (Communications Regulatory Authority)",
    ),
    "post": (_member_code(3), "شرکت ملی پست", "National Post Company"),
    "ssaa": (
        _member_code(4),
        "سازمان ثبت اسناد و املاک کشور",
        "Deeds and Properties Registration Organization",
    ),
    "health": (
        _member_code(5),
        "وزارت بهداشت، درمان و آموزش پزشکی",
        "Ministry of Health and Medical Education",
    ),
    "science": (
        _member_code(6),
        "وزارت علوم، تحقیقات و فناوری",
        "Ministry of Science, Research and Technology",
    ),
    "education": (_member_code(7), "وزارت آموزش و پرورش", "Ministry of Education"),
    "judiciary": (_member_code(8), "قوه قضاییه (مرکز آمار و فناوری اطلاعات)", "Judiciary"),
    "martyrs": (
        _member_code(9),
        "بنیاد شهید و امور ایثارگران",
        "Foundation of Martyrs and Veterans Affairs",
    ),
    "relief": (_member_code(10), "کمیته امداد امام خمینی", "Imam Khomeini Relief Committee"),
    "ssi": (_member_code(11), "سازمان تأمین اجتماعی", "Social Security Organization"),
    "tax": (_member_code(12), "سازمان امور مالیاتی کشور", "Iranian National Tax Administration"),
    "vehicle": (
        _member_code(13),
        "پلیس راهنمایی و رانندگی فراجا",
        "Traffic Police (vehicle and driving licence registry)",
    ),
    "insurance": (
        _member_code(14),
        "سازمان بیمه سلامت ایران",
        "Iran Health Insurance Organization",
    ),
    "welfare": (
        _member_code(15),
        "وزارت تعاون، کار و رفاه اجتماعی (پایگاه اطلاعات رفاه ایرانیان)",
        "Ministry of Cooperatives, Labour and Social Welfare (Iranian Welfare Database)",
    ),
    "vocational": (
        _member_code(16),
        "سازمان آموزش فنی و حرفه‌ای کشور",
        "Technical and Vocational Training Organization",
    ),
    # The location-based address database (postcode, GNAF, standard address description) is the
    # Post Company's (seed 002, §1.5): the same exchange member as "post", another subsystem.
    "location": (
        _member_code(3),
        "شرکت ملی پست (سامانه نشانی مکان‌محور)",
        "National Post Company (location-based address system)",
    ),
    "foreign": (
        _member_code(17),
        "سازمان امور اتباع و مهاجرین خارجی (وزارت کشور)",
        "National Organization for Foreign Nationals and Immigrants Affairs (Ministry of Interior)",
    ),
}

# Each service: code, path prefix on the registry, the path parameter, English and Persian
# titles, the fields that identify the record (always returned), the data items and their
# fields, and the legal basis under which the registry shares it.
SERVICES: dict[str, list[dict[str, Any]]] = {
    "civil": [
        {
            "code": "identity",
            "title_en": "Identity match (national code and birth date)",
            "title_fa": "استعلام تطابق هویت",
            "param": "national_code",
            "query": ["birth_date"],
            "key_fields": ["national_code", "match"],
            "items": {
                "civil.identity": ["first_name", "last_name", "father_name", "sex"],
                "civil.birth_date": ["birth_date", "birth_date_jalali"],
                "civil.marital_status": ["marital_status"],
                "civil.death_record": ["alive", "death_date"],
            },
        },
        {
            "code": "household",
            "title_en": "Household and kinship",
            "title_fa": "استعلام خانوار و نسبت خانوادگی",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {
                "civil.household": ["father_national_code", "mother_national_code", "members"],
            },
        },
        {
            "code": "birth-record",
            "title_en": "Birth registration",
            "title_fa": "استعلام ثبت ولادت",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {
                "civil.birth_record": [
                    "birth_registration_number",
                    "birth_date",
                    "birth_place",
                    "father_national_code",
                    "mother_national_code",
                ],
            },
        },
        {
            "code": "death-record",
            "title_en": "Death registration",
            "title_fa": "استعلام ثبت وفات",
            "param": "national_code",
            "key_fields": ["national_code", "deceased"],
            "items": {
                "civil.death_record": [
                    "death_date",
                    "death_date_jalali",
                    "death_place",
                    "death_certificate_number",
                ],
            },
        },
        {
            "code": "photo",
            "title_en": "Photograph",
            "title_fa": "استعلام تصویر چهره",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"civil.photo": ["photo"]},
        },
    ],
    "shahkar": [
        {
            "code": "mobile-owner",
            "title_en": "Mobile number ownership",
            "title_fa": "استعلام تطابق شماره همراه و کد ملی",
            "param": None,
            "query": ["national_code", "mobile"],
            "key_fields": ["national_code", "mobile"],
            "items": {"shahkar.mobile_owner": ["match"]},
        }
    ],
    "post": [
        {
            "code": "address",
            "title_en": "Standard address from postcode",
            "title_fa": "استعلام نشانی از کد پستی",
            "param": "postcode",
            "key_fields": ["postcode"],
            "items": {
                "post.address": ["province", "city", "street", "alley", "plaque", "unit"],
            },
        },
        {
            "code": "residence",
            "title_en": "Registered residence of a person",
            "title_fa": "استعلام محل سکونت",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {
                "post.address": [
                    "postcode",
                    "province",
                    "city",
                    "street",
                    "alley",
                    "plaque",
                    "unit",
                ],
            },
        },
    ],
    "ssaa": [
        {
            "code": "company",
            "title_en": "Legal person particulars",
            "title_fa": "استعلام مشخصات شخص حقوقی",
            "param": "national_id",
            "key_fields": ["national_id"],
            "items": {
                "ssaa.company": [
                    "name",
                    "kind",
                    "registration_number",
                    "registration_date",
                    "registration_date_jalali",
                    "ceo_national_code",
                    "postcode",
                    "status",
                ],
            },
        },
        {
            # The company's directors and signatories, apart from its particulars: a service
            # that checks an employer never receives who sits on the board.
            "code": "representatives",
            "title_en": "Legal person's directors and signatories",
            "title_fa": "استعلام مدیران و صاحبان امضای مجاز شخص حقوقی",
            "param": "national_id",
            "key_fields": ["national_id"],
            "items": {"ssaa.company": ["name", "status", "representatives"]},
        },
        {
            "code": "deeds",
            "title_en": "Property deeds of a person",
            "title_fa": "استعلام اسناد مالکیت شخص",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"ssaa.deed": ["deeds"]},
        },
        {
            "code": "deed",
            "title_en": "Deed authenticity",
            "title_fa": "استعلام اصالت سند",
            "param": "serial",
            "key_fields": ["serial"],
            "items": {
                "ssaa.deed": [
                    "owner_national_code",
                    "registry_plate",
                    "area_m2",
                    "postcode",
                    "authentic",
                ],
            },
        },
    ],
    "health": [
        {
            "code": "birth-record",
            "title_en": "Hospital birth record",
            "title_fa": "استعلام گواهی ولادت بیمارستانی",
            "param": "national_code",
            "key_fields": ["child_national_code"],
            "items": {
                "health.birth_record": [
                    "mother_national_code",
                    "hospital",
                    "city",
                    "birth_time",
                    "birth_time_jalali",
                    "sex",
                    "weight_g",
                ],
            },
        },
        {
            "code": "births-of-mother",
            "title_en": "Hospital births by mother",
            "title_fa": "استعلام ولادت‌های بیمارستانی مادر",
            "param": "national_code",
            "key_fields": ["mother_national_code"],
            "items": {"health.birth_record": ["births"]},
        },
    ],
    "science": [
        {
            "code": "education-status",
            "title_en": "University degrees and student status",
            "title_fa": "استعلام مدارک تحصیلی و وضعیت دانشجویی",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {
                "science.degree": ["degrees"],
                "science.student_status": ["student"],
            },
        }
    ],
    "education": [
        {
            "code": "school-record",
            "title_en": "School record",
            "title_fa": "استعلام سوابق تحصیلی مدرسه",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"education.school_record": ["in_school", "grade", "diploma_year"]},
        }
    ],
    "judiciary": [
        {
            "code": "criminal-record",
            "title_en": "Criminal record",
            "title_fa": "استعلام سوء پیشینه کیفری",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"judiciary.criminal_record": ["has_record", "convictions"]},
        }
    ],
    "martyrs": [
        {
            "code": "veteran-status",
            "title_en": "Veteran status",
            "title_fa": "استعلام وضعیت ایثارگری",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"martyrs.veteran_status": ["is_veteran", "status", "disability_percent"]},
        }
    ],
    "relief": [
        {
            "code": "beneficiary",
            "title_en": "Relief beneficiary status",
            "title_fa": "استعلام وضعیت مددجویی",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"relief.beneficiary": ["beneficiary", "since_year", "programme"]},
        }
    ],
    "ssi": [
        {
            "code": "insurance-record",
            "title_en": "Social insurance record",
            "title_fa": "استعلام سوابق بیمه",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {
                "ssi.insurance_record": [
                    "insured",
                    "insurance_number",
                    "employer_national_id",
                    "months_contributed",
                    "last_contribution",
                ],
            },
        }
    ],
    "tax": [
        {
            "code": "taxpayer",
            "title_en": "Taxpayer status and income tax band",
            "title_fa": "استعلام وضعیت مودی و طبقه مالیات بر درآمد",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {
                "tax.taxpayer_status": [
                    "registered",
                    "tax_file_number",
                    "activity",
                    "tax_office",
                    "status",
                ],
                "tax.income_bracket": ["tax_year", "rate_percent", "exempt"],
            },
        },
        {
            "code": "clearance",
            "title_en": "Tax clearance",
            "title_fa": "استعلام مفاصاحساب مالیاتی",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"tax.clearance": ["clear", "outstanding_rial", "as_of", "as_of_jalali"]},
        },
    ],
    "vehicle": [
        {
            "code": "owned-vehicles",
            "title_en": "Vehicles registered to a person",
            "title_fa": "استعلام خودروهای به نام شخص",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"vehicle.owned_vehicles": ["vehicles"]},
        },
        {
            "code": "vehicle",
            "title_en": "Vehicle, plate and owner by VIN",
            "title_fa": "استعلام مشخصات خودرو، پلاک و مالک با شماره شاسی",
            "param": "vin",
            "key_fields": ["vin"],
            "items": {
                "vehicle.plate": [
                    "plate",
                    "owner_national_code",
                    "make_model",
                    "kind",
                    "model_year",
                    "colour",
                    "status",
                ],
            },
        },
        {
            "code": "driving-licence",
            "title_en": "Driving licence",
            "title_fa": "استعلام گواهینامه رانندگی",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {
                "vehicle.driving_licence": [
                    "has_licence",
                    "licence_number",
                    "classes",
                    "issued",
                    "valid_until",
                    "status",
                ],
            },
        },
    ],
    "insurance": [
        {
            "code": "coverage",
            "title_en": "Basic health insurance coverage",
            "title_fa": "استعلام پوشش بیمه پایه سلامت",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {
                "insurance.health_coverage": [
                    "covered",
                    "insurer",
                    "insurer_name",
                    "scheme",
                    "scheme_name",
                    "relation",
                    "insured_number",
                    "valid_until",
                ],
            },
        },
        {
            "code": "family-physician",
            "title_en": "Family physician",
            "title_fa": "استعلام پزشک خانواده",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {
                "insurance.family_physician": ["enrolled", "physician", "health_centre"],
            },
        },
    ],
    "welfare": [
        {
            "code": "subsidy",
            "title_en": "Income decile and subsidies",
            "title_fa": "استعلام دهک درآمدی و یارانه",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {
                "welfare.subsidy_decile": ["decile", "as_of"],
                "welfare.subsidy_status": [
                    "cash_subsidy",
                    "monthly_rial_per_person",
                    "electronic_coupon",
                ],
            },
        },
        {
            "code": "household",
            "title_en": "Welfare household",
            "title_fa": "استعلام خانوار رفاهی",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"welfare.household_members": ["head_national_code", "members", "size"]},
        },
    ],
    "vocational": [
        {
            "code": "certificates",
            "title_en": "Technical and vocational certificates of a person",
            "title_fa": "استعلام گواهینامه‌های مهارت فنی و حرفه‌ای شخص",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"vocational.certificates": ["certificates"]},
        },
        {
            "code": "certificate",
            "title_en": "Vocational certificate authenticity",
            "title_fa": "استعلام اصالت گواهینامه مهارت",
            "param": "certificate_number",
            "key_fields": ["certificate_number"],
            "items": {
                "vocational.certificates": [
                    "holder_national_code",
                    "title",
                    "standard_code",
                    "issued",
                    "issued_jalali",
                    "centre",
                    "authentic",
                ],
            },
        },
    ],
    "location": [
        {
            "code": "geo",
            "title_en": "Location of a postcode",
            "title_fa": "استعلام موقعیت مکانی کد پستی",
            "param": "postcode",
            "key_fields": ["postcode"],
            "items": {
                "location.geo": ["latitude", "longitude", "accuracy_m"],
                "location.area": ["settlement", "municipal_district", "building_id"],
            },
        },
        {
            "code": "residence-geo",
            "title_en": "Location of a person's registered residence",
            "title_fa": "استعلام موقعیت مکانی محل سکونت",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {
                "location.geo": ["postcode", "latitude", "longitude", "accuracy_m"],
                "location.area": ["settlement", "municipal_district", "building_id"],
            },
        },
    ],
    "foreign": [
        {
            "code": "person",
            "title_en": "Foreign national's identity",
            "title_fa": "استعلام هویت اتباع خارجی",
            "param": "fida_code",
            "key_fields": ["fida_code"],
            "items": {
                "foreign.identity": [
                    "first_name",
                    "last_name",
                    "father_name",
                    "sex",
                    "birth_date",
                    "birth_date_jalali",
                    "nationality",
                    "nationality_code",
                    "passport_number",
                ],
            },
        },
        {
            "code": "residence-permit",
            "title_en": "Foreign national's residence permit",
            "title_fa": "استعلام مدرک اقامت اتباع خارجی",
            "param": "fida_code",
            "key_fields": ["fida_code"],
            "items": {
                "foreign.residence_permit": [
                    "permit_type",
                    "permit_type_fa",
                    "permit_number",
                    "issued",
                    "valid_until",
                    "valid",
                    "province",
                    "city",
                ],
            },
        },
    ],
}

# The life-event feeds (``GET /events``, :mod:`.events`): one data item per event type, each
# the answer's field of that type, so a grant names the types a consumer may see.
_EVENT_ITEMS: dict[str, dict[str, tuple[str, str, str]]] = {
    "health": {"health.birth_events": ("births", "ولادت‌های بیمارستانی", "Hospital births")},
    "civil": {
        "civil.death_events": ("deaths", "فوت اعضای خانواده", "Deaths in a family"),
        "civil.marriage_events": ("marriages", "ثبت ازدواج", "Marriages registered"),
        "civil.coming_of_age_events": ("comings_of_age", "رسیدن به سن ۱۸ سالگی", "Turning 18"),
    },
    "ssi": {"ssi.retirement_events": ("retirements", "بازنشستگی", "Retirements")},
}


def _feed(items: dict[str, tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "code": "events",
        "title_en": "Life events (feed): " + ", ".join(v[2] for v in items.values()),
        "title_fa": "رویدادهای زندگی (خوراک): " + "، ".join(v[1] for v in items.values()),
        "query": ["after", "limit"],
        "key_fields": ["next", "has_more"],
        "items": {item: [value[0]] for item, value in items.items()},
    }


for registry_name, feed_items in _EVENT_ITEMS.items():
    SERVICES[registry_name].append(_feed(feed_items))
EVENT_ITEMS = {item: v for items in _EVENT_ITEMS.values() for item, v in items.items()}
SERVICES["judiciary"].extend(SANA_SERVICES)  # SANA accounts (:mod:`.sana`)

LEGAL_BASIS = (
    "Law on the Publication and Free Access to Information; Law on the Management of Data and "
    "Information (NDIM) 1403, base registries; 7th Development Plan Art. 107"
)


def subsystem(registry: str) -> str:
    return f"{registry}-registry"


def paths(
    services: list[dict[str, Any]],
    *,
    legal_basis: str = LEGAL_BASIS,
    record: str = "The record",
    not_found: str = "No such record",
) -> dict[str, Any]:
    """The OpenAPI paths of ``services``, one operation per method with its data items: the
    one writer of every simulated organisation's published description."""
    described: dict[str, Any] = {}
    for service in services:
        path = f"/{service['code']}" + (f"/{{{service['param']}}}" if service.get("param") else "")
        parameters = []
        if service.get("param"):
            parameters.append(
                {
                    "name": service["param"],
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
            )
        for name in service.get("query", []):
            parameters.append({"name": name, "in": "query", "schema": {"type": "string"}})
        fields = list(service["key_fields"]) + [f for fs in service["items"].values() for f in fs]
        described[path] = {
            method: {
                "operationId": service["code"],
                "summary": service["title_en"],
                "x-panjereh-service-code": service["code"],
                "x-panjereh-title-fa": service["title_fa"],
                "x-panjereh-key-fields": service["key_fields"],
                "x-panjereh-items": service["items"],
                "x-panjereh-legal-basis": legal_basis,
                "parameters": parameters,
                "responses": {
                    "200": {
                        "description": record,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {name: {} for name in dict.fromkeys(fields)},
                                }
                            }
                        },
                    },
                    "404": {"description": not_found},
                },
                # What a well-formed request about nobody answers, when not 404 "no such
                # record" (a list service answers 200 with an empty list): the status
                # monitor's probe expects it (panjereh.status.monitor).
                **(
                    {"x-panjereh-probe-status": service["probe_status"]}
                    if service.get("probe_status")
                    else {}
                ),
            }
            for method in service.get("methods", ["get"])
        }
    return described


def describe(
    registry: str, member_code: str, name_fa: str, name_en: str, described: dict[str, Any]
) -> dict[str, Any]:
    """A simulated organisation's published OpenAPI 3.1 description around its ``paths``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": name_en,
            "version": "1.0",
            "x-panjereh-registry": registry,
            "x-panjereh-member-code": member_code,
            "x-panjereh-name-fa": name_fa,
        },
        "paths": described,
    }


def openapi(registry: str) -> dict[str, Any]:
    """The registry's published OpenAPI 3.1 description, with its data items."""
    member_code, name_fa, name_en = ORGANISATIONS[registry]
    return describe(registry, member_code, name_fa, name_en, paths(SERVICES[registry]))
