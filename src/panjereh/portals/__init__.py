"""Simulated specialised permit portals («درگاه‌های تخصصی صدور مجوز»): other organisations.

The National Permits Portal rule is "register first, then route": the applicant registers an
approval-based permit application in the window, and the window hands it to the issuing
authority's specialised portal, which reviews it, may schedule an expert's site inspection or
ask for more information, and decides. This package stands in for three such portals. Like the
simulated registries and the PSP it imports nothing from Django or from Panjereh's apps: an
issuing authority shares no code or database with the window. One process (:mod:`.server`,
started by :mod:`.supervisor`) serves every portal, each under its own base path with its own
secret, keeps its state in a small SQLite file of its own, and is reached only over HTTP.

The names are honest: these are simulations, not the ministries' systems, and their protocol is
this simulator's own (docs/portals.md).
"""

from __future__ import annotations

from typing import Any

# portal: its authority and the permits it issues. ``inspection``: the permit needs an expert's
# site visit (the one in-person step the law allows); ``legal_days``: the time the authority has
# to decide; ``validity_years``: how long an approved permit is valid.
PORTALS: dict[str, dict[str, Any]] = {
    "behinyab": {
        "title": "بهین‌یاب (شبیه‌سازی)",
        "authority": "وزارت صنعت، معدن و تجارت",
        "prefix": "BY",
        "permit_types": {
            "establishment": {
                "title": "جواز تأسیس واحد صنعتی",
                "inspection": False,
                "legal_days": 15,
                "validity_years": 2,
            },
            "operation": {
                "title": "پروانه بهره‌برداری واحد صنعتی",
                "inspection": True,
                "legal_days": 30,
                "validity_years": 5,
            },
        },
        "reasons": [
            "محل واحد در محدوده مجاز استقرار صنایع نیست.",
            "ظرفیت اعلام‌شده با طرح توجیهی هم‌خوان نیست.",
        ],
    },
    "heritage": {
        "title": "درگاه مجوزهای میراث فرهنگی و گردشگری (شبیه‌سازی)",
        "authority": "وزارت میراث فرهنگی، گردشگری و صنایع‌دستی",
        "prefix": "MG",
        "permit_types": {
            "travel_agency": {
                "title": "مجوز دفتر خدمات مسافرتی و گردشگری",
                "inspection": True,
                "legal_days": 20,
                "validity_years": 3,
            },
            "ecolodge": {
                "title": "مجوز اقامتگاه بوم‌گردی",
                "inspection": True,
                "legal_days": 30,
                "validity_years": 3,
            },
            "handicraft_workshop": {
                "title": "پروانه تولید صنایع‌دستی",
                "inspection": False,
                "legal_days": 10,
                "validity_years": 5,
            },
        },
        "reasons": [
            "بنا در حریم اثر ثبت‌شده ملی است و تغییر کاربری آن مجاز نیست.",
            "مدیر فنی معرفی‌شده گواهی صلاحیت معتبر ندارد.",
        ],
    },
    "health": {
        "title": "درگاه مجوزهای بهداشتی (شبیه‌سازی)",
        "authority": "وزارت بهداشت، درمان و آموزش پزشکی",
        "prefix": "BH",
        "permit_types": {
            "food_production": {
                "title": "پروانه بهداشتی ساخت فراورده‌های غذایی",
                "inspection": True,
                "legal_days": 30,
                "validity_years": 5,
            },
            "pharmacy": {
                "title": "پروانه تأسیس داروخانه",
                "inspection": True,
                "legal_days": 30,
                "validity_years": 5,
            },
        },
        "reasons": [
            "فاصله محل تا نزدیک‌ترین داروخانه کمتر از حد ضوابط است.",
            "گزارش بازدید، نبود شرایط بهداشتی خط تولید را نشان می‌دهد.",
        ],
    },
}

STATES: tuple[str, ...] = (
    "received",
    "under_review",
    "inspection_scheduled",
    "more_information_requested",
    "approved",
    "rejected",
)
FINAL_STATES: frozenset[str] = frozenset({"approved", "rejected"})

# The one table of allowed moves (an event is the move into its state).
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"under_review"}),
    "under_review": frozenset(
        {"inspection_scheduled", "more_information_requested", "approved", "rejected"}
    ),
    "inspection_scheduled": frozenset({"more_information_requested", "approved", "rejected"}),
    "more_information_requested": frozenset({"under_review", "rejected"}),
    "approved": frozenset(),
    "rejected": frozenset(),
}
