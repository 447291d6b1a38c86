"""A small catalogue with the Persian spellings the search must cope with."""

from __future__ import annotations

from dataclasses import dataclass

from panjereh.catalogue.models import Agency, Service
from tests.factories import make_agency, make_service


@dataclass
class Catalogue:
    health: Agency
    university: Agency
    civil: Agency
    registry: Agency
    birth_certificate: Service
    birth_registration: Service
    id_card: Service
    tax_form: Service
    company: Service
    hospital_record: Service
    exchange: Service
    exempt: Service


def build_catalogue() -> Catalogue:
    health = make_agency(
        code="health-ministry",
        name_fa="وزارت بهداشت، درمان و آموزش پزشکی",
        name_en="Ministry of Health and Medical Education",
        kind="ministry",
        sso_integrated=True,
    )
    university = make_agency(
        code="tehran-medical-university",
        name_fa="دانشگاه علوم پزشکی تهران",
        name_en="Tehran University of Medical Sciences",
        kind="university",
        parent=health,
        own_window_url="https://example.org/tums",
    )
    civil = make_agency(
        code="civil-registration",
        name_fa="سازمان ثبت احوال کشور",
        name_en="National Organisation for Civil Registration",
        kind="organisation",
    )
    registry = make_agency(
        code="deeds-registration",
        name_fa="سازمان ثبت اسناد و املاک کشور",
        name_en="",
        kind="organisation",
        connection_status="not_connected",
        connection_form="",
    )
    birth_certificate = make_service(
        civil,
        title_fa="صدور گواهی ولادت",
        title_en="Birth certificate",
        description_fa="گواهی ولادت نوزاد را بدون مراجعه حضوری بگیرید.",
        recipients=["G2C"],
        life_events=["birth"],
        smart_status="approved",
        min_assurance_level=2,
        fee=250000,
        target_minutes=60 * 24 * 2 + 90,
        inputs=[
            {"code": "parent", "source": "registry", "item": "civil.identity"},
            {
                "code": "hospital",
                "source": "registry",
                "item": "health.birth_record",
                "label_fa": "",
            },
            {"code": "name", "source": "user", "label_fa": "نام نوزاد", "label_en": "Baby's name"},
        ],
        online_url="https://example.org/birth",
        channels=["web", "mobile"],
    )
    birth_registration = make_service(
        civil,
        title_fa="ثبت ولادت نوزاد",
        title_en="Registering a birth",
        life_events=["birth"],
        recipients=["G2C"],
    )
    id_card = make_service(
        civil,
        title_fa="درخواست کارت‌ملی هوشمند",
        title_en="Smart national ID card application",
        recipients=["G2C"],
        documents_required=["شناسنامه"],
        in_person_steps=[{"label_fa": "ثبت اثر انگشت در دفتر پیشخوان", "label_en": "Fingerprints"}],
    )
    tax_form = make_service(
        registry,
        title_fa="فرم ۱۰۱ اظهارنامه مالیاتی",
        title_en="",
        recipients=["G2B"],
        connected=False,
        connection_form="",
    )
    company = make_service(
        registry,
        title_fa="ثبت شرکت سهامی خاص",
        title_en="Registering a private joint-stock company",
        recipients=["G2B"],
        life_events=["business"],
        connected=False,
        connection_form="",
    )
    hospital_record = make_service(
        university,
        title_fa="دریافت پرونده پزشکی بیمارستان",
        title_en="Hospital medical record",
        recipients=["G2C"],
        life_events=["illness"],
        smart_status="approved",
    )
    exchange = make_service(
        health,
        title_fa="استعلام پروانه پزشکی برای دستگاه‌ها",
        title_en="Medical licence enquiry for agencies",
        recipients=["G2G"],
    )
    exempt = make_service(
        health,
        title_fa="معاینه حضوری پزشکی قانونی",
        title_en="Forensic examination in person",
        scope="exempt",
        connected=False,
        connection_form="",
        exemption_reason="نیاز به معاینه بالینی",
        exemption_document="مصوبه ۱۲",
    )
    return Catalogue(
        health=health,
        university=university,
        civil=civil,
        registry=registry,
        birth_certificate=birth_certificate,
        birth_registration=birth_registration,
        id_card=id_card,
        tax_form=tax_form,
        company=company,
        hospital_record=hospital_record,
        exchange=exchange,
        exempt=exempt,
    )
