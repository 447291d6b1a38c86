"""Demo offices for the appointments scheduler (SIMULATED): the judiciary's e-services offices
in six cities and three hospitals by specialty (under the Ministry of Health), with slots for
the coming three weeks. Run at every demo start: offices once, slots for days not yet there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import jdatetime
from django.utils import timezone

from panjereh.appointments import operations
from panjereh.appointments.models import Office, Slot
from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency

DAYS = 21

JUDICIAL = [
    (
        "judiciary-tehran-vanak",
        "تهران",
        "Tehran",
        "دفتر خدمات الکترونیک قضایی ونک",
        "Vanak judicial e-services office",
        "تهران، میدان ونک، خیابان ملاصدرا، پلاک ۱۲",
        "12 Mollasadra St, Vanak Sq, Tehran",
    ),
    (
        "judiciary-tehran-enghelab",
        "تهران",
        "Tehran",
        "دفتر خدمات الکترونیک قضایی انقلاب",
        "Enghelab judicial e-services office",
        "تهران، خیابان انقلاب، پلاک ۴۰۸",
        "408 Enghelab St, Tehran",
    ),
    (
        "judiciary-isfahan",
        "اصفهان",
        "Isfahan",
        "دفتر خدمات الکترونیک قضایی اصفهان",
        "Isfahan judicial e-services office",
        "اصفهان، خیابان چهارباغ بالا، پلاک ۷۵",
        "75 Chaharbagh-e Bala St, Isfahan",
    ),
    (
        "judiciary-mashhad",
        "مشهد",
        "Mashhad",
        "دفتر خدمات الکترونیک قضایی مشهد",
        "Mashhad judicial e-services office",
        "مشهد، بلوار سجاد، پلاک ۲۱",
        "21 Sajjad Blvd, Mashhad",
    ),
    (
        "judiciary-tabriz",
        "تبریز",
        "Tabriz",
        "دفتر خدمات الکترونیک قضایی تبریز",
        "Tabriz judicial e-services office",
        "تبریز، خیابان امام، پلاک ۳۰۲",
        "302 Imam St, Tabriz",
    ),
    (
        "judiciary-shiraz",
        "شیراز",
        "Shiraz",
        "دفتر خدمات الکترونیک قضایی شیراز",
        "Shiraz judicial e-services office",
        "شیراز، خیابان زند، پلاک ۵۵",
        "55 Zand St, Shiraz",
    ),
]
HOSPITALS = [
    (
        "imam",
        "بیمارستان امام خمینی",
        "Imam Khomeini Hospital",
        "تهران",
        "Tehran",
        "تهران، بلوار کشاورز",
        "Keshavarz Blvd, Tehran",
    ),
    (
        "namazi",
        "بیمارستان نمازی",
        "Namazi Hospital",
        "شیراز",
        "Shiraz",
        "شیراز، میدان نمازی",
        "Namazi Sq, Shiraz",
    ),
    (
        "ghaem",
        "بیمارستان قائم",
        "Ghaem Hospital",
        "مشهد",
        "Mashhad",
        "مشهد، خیابان احمدآباد",
        "Ahmadabad St, Mashhad",
    ),
]
SPECIALTIES = [
    ("cardiology", "قلب و عروق", "Cardiology"),
    ("paediatrics", "کودکان", "Paediatrics"),
    ("ophthalmology", "چشم‌پزشکی", "Ophthalmology"),
    ("orthopaedics", "ارتوپدی", "Orthopaedics"),
]


def _offices() -> list[Office]:
    made = []
    judiciary = Agency.objects.filter(code="judiciary").first()
    if judiciary is not None:
        for code, city_fa, city_en, name_fa, name_en, address_fa, address_en in JUDICIAL:
            office = Office.objects.filter(code=code).first() or operations.open_office(
                roles.SYSTEM,
                judiciary,
                code=code,
                kind=Office.Kind.SERVICE_OFFICE,
                name_fa=name_fa,
                name_en=name_en,
                specialty_fa="ثبت‌نام ثنا، ابلاغ، لوایح و خدمات حضوری قضایی",
                specialty_en="SANA registration, notices, bills and in-person judicial services",
                city_fa=city_fa,
                city_en=city_en,
                address_fa=address_fa,
                address_en=address_en,
            )
            made.append(office)
    health = Agency.objects.filter(code__in=["mohme-hq", "mohme"]).order_by("-code").first()
    if health is not None:
        for n, (key, name_fa, name_en, city_fa, city_en, address_fa, address_en) in enumerate(
            HOSPITALS
        ):
            for skey, spec_fa, spec_en in SPECIALTIES[n % 2 : n % 2 + 3]:
                code = f"hospital-{key}-{skey}"
                office = Office.objects.filter(code=code).first() or operations.open_office(
                    roles.SYSTEM,
                    health,
                    code=code,
                    kind=Office.Kind.SPECIALTY,
                    name_fa=f"{name_fa} {city_fa}، درمانگاه {spec_fa}",
                    name_en=f"{name_en} {city_en}, {spec_en} clinic",
                    specialty_fa=spec_fa,
                    specialty_en=spec_en,
                    city_fa=city_fa,
                    city_en=city_en,
                    address_fa=address_fa,
                    address_en=address_en,
                )
                made.append(office)
    return made


def seed(write: Callable[[str], object] = lambda *_: None, days: int = DAYS) -> int:
    """Offices (once) and their slots for the coming ``days`` days; the slots added."""
    offices = _offices()
    today = operations.tehran_day(timezone.now())
    added = 0
    for office in offices:
        have = set(Slot.objects.filter(office=office, day__gt=today).values_list("day", flat=True))
        for ahead in range(1, days + 1):
            day = today + dt.timedelta(days=ahead)
            weekday = jdatetime.date.fromgregorian(date=day).weekday()  # 0 Saturday … 6 Friday
            if day in have or weekday == 6:
                continue
            end = (
                dt.time(12)
                if weekday == 5
                else dt.time(13 if office.kind == Office.Kind.SERVICE_OFFICE else 12)
            )
            if office.kind == Office.Kind.SERVICE_OFFICE:
                added += operations.add_slots(
                    roles.SYSTEM, office, day, start=dt.time(8), end=end, minutes=15, capacity=2
                )
            else:
                added += operations.add_slots(
                    roles.SYSTEM, office, day, start=dt.time(8), end=end, minutes=20, capacity=1
                )
    if added:
        write(
            f"Appointments (SIMULATED): {len(offices)} offices, {added:,} slots added for the next {days} days."
        )
    return added
