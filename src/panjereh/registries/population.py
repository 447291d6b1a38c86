"""One synthetic population, computed on demand from a person's index.

Nothing is stored: every fact about person ``i`` (or household ``k``, company ``j``) is derived
from ``(seed, i)`` with a seeded generator, so a population of a million people costs no memory
and every registry process, started separately, agrees on the same people, families, addresses
and companies. Identifiers are bijective affine maps of the index (so a national code, mobile
number, postcode or company ID can be turned back into the index without a lookup table) plus
the real check digits.

Households are blocks of four indices: ``4k`` is the father, ``4k+1`` the mother and ``4k+2``,
``4k+3`` their children. Some records are incomplete on purpose, as real ones are: a few
households have no registered residence, some deeds miss their area or plate number.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jdatetime

# The registries answer "as of" this day, so that ages and statuses do not drift between runs.
REFERENCE_DATE = dt.date(2025, 3, 20)
HOUSEHOLD_SIZE = 4

_NC_MOD = 10**9
_NC_MUL = 387_420_489  # 3**18: coprime with 10**9, so the map is a bijection
_MOBILE_MUL = 798_713_221  # odd and not a multiple of 5
_POST_MOD = 9 * 10**9
_POST_MUL = 1_234_567_891  # coprime with 2, 3 and 5
_COMPANY_MOD = 9 * 10**9
_COMPANY_MUL = 2_147_483_647  # a prime
_DEED_MOD = 10**8
_DEED_MUL = 48_828_127  # coprime with 2 and 5

MALE_NAMES = (
    "علی محمد حسین رضا مهدی حسن امیر مصطفی سعید مجید حمید احمد جواد محسن "
    "مرتضی کامران بهرام داریوش کوروش آرش بابک پویا سینا نیما یاسین ابوالفضل "
    "امیرحسین محمدرضا علیرضا سجاد ایمان میلاد فرهاد فریدون هادی وحید مسعود"
).split()
FEMALE_NAMES = (
    "فاطمه زهرا مریم زینب سارا نرگس الهام مهسا نازنین ریحانه معصومه لیلا "
    "شیرین پریسا فرشته سمیرا آزاده مینا نسرین طاهره کوثر هستی یگانه ستایش "
    "فرزانه مرضیه اعظم شهلا پروین ژاله سیمین رویا نیلوفر بهاره هانیه آیدا"
).split()
SURNAMES = (
    "محمدی حسینی احمدی رضایی موسوی کریمی جعفری صادقی رحیمی هاشمی قاسمی "
    "کاظمی عباسی نوری مرادی اکبری تهرانی اصفهانی شیرازی تبریزی کرمانی "
    "یزدانی رستمی سلیمانی نجفی حیدری زارعی فرهادی بهرامی طاهری ملکی "
    "شریفی عسگری امینی نظری یوسفی باقری خسروی پورمحمدی میرزایی"
).split()
PROVINCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("تهران", ("تهران", "شهریار", "ورامین", "اسلامشهر")),
    ("اصفهان", ("اصفهان", "کاشان", "نجف‌آباد")),
    ("خراسان رضوی", ("مشهد", "نیشابور", "سبزوار")),
    ("فارس", ("شیراز", "مرودشت", "کازرون")),
    ("آذربایجان شرقی", ("تبریز", "مراغه", "مرند")),
    ("خوزستان", ("اهواز", "دزفول", "آبادان")),
    ("مازندران", ("ساری", "بابل", "آمل")),
    ("کرمان", ("کرمان", "رفسنجان", "سیرجان")),
    ("گیلان", ("رشت", "لاهیجان", "انزلی")),
    ("یزد", ("یزد", "میبد", "اردکان")),
    ("سیستان و بلوچستان", ("زاهدان", "چابهار", "زابل")),
    ("کردستان", ("سنندج", "سقز", "مریوان")),
)
STREETS = (
    "آزادی انقلاب ولیعصر امام خمینی شهید بهشتی طالقانی مطهری فردوسی حافظ "
    "سعدی کارگر جمهوری بهار نرگس لاله یاس گلستان شقایق"
).split()
HOSPITALS = (
    "بیمارستان امام خمینی",
    "بیمارستان میلاد",
    "بیمارستان شهید بهشتی",
    "بیمارستان الزهرا",
    "بیمارستان قائم",
    "بیمارستان نمازی",
    "بیمارستان امام رضا",
    "زایشگاه مهر",
)
UNIVERSITIES = (
    "دانشگاه تهران",
    "دانشگاه صنعتی شریف",
    "دانشگاه فردوسی مشهد",
    "دانشگاه شیراز",
    "دانشگاه اصفهان",
    "دانشگاه تبریز",
    "دانشگاه علم و صنعت ایران",
    "دانشگاه آزاد اسلامی",
    "دانشگاه پیام نور",
)
FIELDS = (
    "مهندسی کامپیوتر",
    "حقوق",
    "پزشکی",
    "مدیریت بازرگانی",
    "حسابداری",
    "مهندسی عمران",
    "ادبیات فارسی",
    "روانشناسی",
    "اقتصاد",
    "پرستاری",
)
OFFENCES = ("کلاهبرداری", "سرقت", "صدور چک بلامحل", "تصادف منجر به جرح", "توهین", "جعل")
COMPANY_WORDS = (
    "پارس ایران آریا نوین سپهر البرز کوثر تدبیر رایان پیشگام دانش مهر آتیه فناوران سازه کاوش"
).split()
COMPANY_KINDS = ("سهامی خاص", "سهامی عام", "با مسئولیت محدود", "تعاونی", "مؤسسه غیرتجاری")


def national_code_check_digit(body9: str) -> int:
    """The check digit of an Iranian national code (کد ملی) for its first nine digits."""
    total = sum(int(digit) * (10 - position) for position, digit in enumerate(body9))
    remainder = total % 11
    return remainder if remainder < 2 else 11 - remainder


def is_valid_national_code(code: str) -> bool:
    if len(code) != 10 or not code.isdigit() or len(set(code)) == 1:
        return False
    return national_code_check_digit(code[:9]) == int(code[9])


def legal_person_check_digit(body10: str) -> int:
    """The check digit of an 11-digit national ID of a legal person (شناسه ملی)."""
    weights = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)
    decimal = int(body10[9]) + 2
    total = sum((int(d) + decimal) * w for d, w in zip(body10, weights, strict=True))
    remainder = total % 11
    return 0 if remainder == 10 else remainder


def is_valid_legal_person_id(code: str) -> bool:
    if len(code) != 11 or not code.isdigit():
        return False
    return legal_person_check_digit(code[:10]) == int(code[10])


def jalali(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return jdatetime.datetime.fromgregorian(datetime=value).strftime("%Y/%m/%d %H:%M")
    return jdatetime.date.fromgregorian(date=value).strftime("%Y/%m/%d")


def _age(birth: dt.date, on: dt.date = REFERENCE_DATE) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _day(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


# == The registries added for the whole state's data ===========================================
#
# Every fact below is drawn with its own seeded generator (a tag of its own), so adding them
# changed none of the facts above. One household "wealth" draw ties them together as they are
# tied in life: the subsidy decile, the tax bracket, the vehicles, the health insurance scheme.

_VOC_MOD = 10**11
_VOC_MUL = 31_415_926_537  # odd and not a multiple of 5: coprime with 10**11
_FIDA_MOD = 9 * 10**10
_FIDA_MUL = 7_777_777_777  # coprime with 2, 3 and 5
_VIN_MOD = 10**7
_VIN_MUL = 1_234_567  # coprime with 10**7
FOREIGN_SHARE = 20  # one registered foreign national for every twenty people

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# Province codes on licence plates ("ایران ۱۰"), a few of each province's (simulated subset).
PLATE_CODES: dict[str, tuple[int, ...]] = {
    "تهران": (10, 11, 20, 22, 33),
    "اصفهان": (13, 23, 43, 53),
    "خراسان رضوی": (12, 32, 36, 42),
    "فارس": (63, 73, 83, 93),
    "آذربایجان شرقی": (15, 25, 35),
    "خوزستان": (14, 24, 34),
    "مازندران": (62, 72, 82),
    "کرمان": (45, 65, 75),
    "گیلان": (46, 56, 76),
    "یزد": (54, 64),
    "سیستان و بلوچستان": (85, 95),
    "کردستان": (51, 61),
}
PLATE_LETTERS = "ب ج د س ص ط ق ل م ن و ه ی".split()
# (make and model, VIN world manufacturer code, kind, least household wealth to own one)
VEHICLE_MODELS: tuple[tuple[str, str, str, float], ...] = (
    ("سایپا پراید ۱۳۱", "NAS", "car", 0.0),
    ("سایپا تیبا", "NAS", "car", 0.1),
    ("سایپا کوییک", "NAS", "car", 0.2),
    ("سایپا شاهین", "NAS", "car", 0.35),
    ("ایران خودرو پژو ۴۰۵", "NAA", "car", 0.1),
    ("ایران خودرو سمند", "NAA", "car", 0.15),
    ("ایران خودرو پژو ۲۰۶", "NAA", "car", 0.3),
    ("ایران خودرو پژو پارس", "NAA", "car", 0.3),
    ("ایران خودرو دنا", "NAA", "car", 0.45),
    ("ایران خودرو تارا", "NAA", "car", 0.55),
    ("پارس خودرو رنو تندر ۹۰", "NAP", "car", 0.3),
    ("کیا اسپورتیج", "KNA", "car", 0.85),
    ("تویوتا کمری", "JTD", "car", 0.9),
    ("موتورسیکلت هوندا ۱۲۵", "NAM", "motorcycle", 0.0),
    ("موتورسیکلت بنلی ۲۵۰", "NAM", "motorcycle", 0.2),
)
VEHICLE_COLOURS = ("سفید", "مشکی", "نقره‌ای", "خاکستری", "نوک‌مدادی", "آبی", "قرمز")
LICENCE_CLASSES = ("پایه سوم", "پایه دوم", "پایه یکم", "موتورسیکلت")
# Approximate centres of the cities above (latitude, longitude).
CITY_CENTRES: dict[str, tuple[float, float]] = {
    "تهران": (35.6892, 51.3890),
    "شهریار": (35.6596, 51.0592),
    "ورامین": (35.3242, 51.6457),
    "اسلامشهر": (35.5522, 51.2350),
    "اصفهان": (32.6546, 51.6680),
    "کاشان": (33.9850, 51.4100),
    "نجف‌آباد": (32.6344, 51.3668),
    "مشهد": (36.2605, 59.6168),
    "نیشابور": (36.2133, 58.7958),
    "سبزوار": (36.2126, 57.6819),
    "شیراز": (29.5918, 52.5837),
    "مرودشت": (29.8742, 52.8025),
    "کازرون": (29.6195, 51.6542),
    "تبریز": (38.0800, 46.2919),
    "مراغه": (37.3917, 46.2398),
    "مرند": (38.4329, 45.7749),
    "اهواز": (31.3183, 48.6706),
    "دزفول": (32.3811, 48.4058),
    "آبادان": (30.3392, 48.3043),
    "ساری": (36.5633, 53.0601),
    "بابل": (36.5513, 52.6790),
    "آمل": (36.4696, 52.3507),
    "کرمان": (30.2839, 57.0834),
    "رفسنجان": (30.4067, 55.9939),
    "سیرجان": (29.4520, 55.6814),
    "رشت": (37.2808, 49.5832),
    "لاهیجان": (37.2071, 50.0039),
    "انزلی": (37.4728, 49.4622),
    "یزد": (31.8974, 54.3569),
    "میبد": (32.2301, 54.0180),
    "اردکان": (32.3100, 54.0175),
    "زاهدان": (29.4963, 60.8629),
    "چابهار": (25.2919, 60.6430),
    "زابل": (31.0287, 61.5012),
    "سنندج": (35.3219, 46.9862),
    "سقز": (36.2499, 46.2735),
    "مریوان": (35.5219, 46.1760),
}
# (title, standard code, share of holders who are men)
VOCATIONAL_STANDARDS: tuple[tuple[str, str, float], ...] = (
    ("برق‌کار ساختمان درجه ۲", "741120530320001", 0.97),
    ("جوشکار سازه‌های فولادی", "721220530140001", 0.98),
    ("کاربر رایانه", "251340530090001", 0.45),
    ("حسابداری مالی", "331340530210001", 0.40),
    ("تعمیرکار خودروهای سبک بنزینی", "723130530280001", 0.97),
    ("آرایشگر موی زنانه", "514120530450001", 0.0),
    ("خیاط لباس زنانه", "753120530110001", 0.05),
    ("لوله‌کش گاز ساختمان", "712620530070001", 0.98),
    ("طراح صفحات وب", "251320530190001", 0.6),
    ("آشپز غذاهای ایرانی", "512020530160001", 0.5),
    ("تعمیرکار تلفن همراه", "742220530230001", 0.9),
    ("مربی مهدکودک", "531120530050001", 0.02),
)
HEALTH_INSURERS = {
    "ihio": "سازمان بیمه سلامت ایران",
    "ssi": "سازمان تأمین اجتماعی",
    "armed_forces": "سازمان بیمه خدمات درمانی نیروهای مسلح",
    "other_fund": "صندوق‌های بیمه‌ای خاص (بانک‌ها، صنعت نفت، صداوسیما)",
}
IHIO_SCHEMES = {
    "universal": "بیمه همگانی سلامت",
    "rural": "بیمه روستاییان و عشایر",
    "government_employees": "بیمه کارکنان دولت",
    "relief": "بیمه مددجویان کمیته امداد",
}
# (nationality in Persian, ISO 3166 alpha-3, share of registered foreign nationals)
NATIONALITIES: tuple[tuple[str, str, float], ...] = (
    ("افغانستان", "AFG", 0.90),
    ("عراق", "IRQ", 0.05),
    ("پاکستان", "PAK", 0.02),
    ("سوریه", "SYR", 0.01),
    ("ترکیه", "TUR", 0.01),
    ("جمهوری آذربایجان", "AZE", 0.01),
)
FOREIGN_MALE_NAMES = (
    "احمد محمد نورالله عبدالله گل‌محمد شیرعلی قربان‌علی ظاهر نجیب‌الله فرید "
    "عبدالرحمن جمیل حیدر عباس کریم رحمت‌الله ذبیح‌الله سید‌علی حامد"
).split()
FOREIGN_FEMALE_NAMES = (
    "فاطمه زینب شکریه گل‌بیبی ملالی نازیه فریبا حلیمه مرضیه زهرا "
    "خدیجه رقیه نرگس سمیه عزیزه شبنم پروانه ماریا"
).split()
FOREIGN_SURNAMES = (
    "محمدی حسینی احمدزی رحیمی نوری حیدری کریمی یوسفزی صدیقی هزاره‌ای "
    "سادات جعفری قاسمی العبیدی الموسوی خان بلوچ"
).split()
# Where registered foreign nationals live (the provinces open to them, weighted).
FOREIGN_PROVINCES: tuple[tuple[str, float], ...] = (
    ("تهران", 0.35),
    ("خراسان رضوی", 0.17),
    ("اصفهان", 0.14),
    ("کرمان", 0.09),
    ("فارس", 0.08),
    ("یزد", 0.06),
    ("سیستان و بلوچستان", 0.05),
    ("خوزستان", 0.03),
    ("مازندران", 0.03),
)
# (permit type, Persian name, share, months of validity)
PERMIT_TYPES: tuple[tuple[str, str, float, int], ...] = (
    ("refugee_card", "کارت آمایش (پناهندگی)", 0.18, 12),
    ("census_slip", "برگه سرشماری", 0.50, 6),
    ("family_passport", "اقامت خانوادگی گذرنامه‌ای", 0.15, 12),
    ("work", "اقامت کار (با پروانه کار)", 0.10, 12),
    ("student", "اقامت تحصیلی", 0.05, 12),
    ("investor", "اقامت سرمایه‌گذاری", 0.02, 24),
)


def luhn_check_digit(body: str) -> int:
    """The Luhn check digit of ``body`` (the rule of payment cards)."""
    total = 0
    for position, digit in enumerate(reversed(body)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def fida_check_digit(body11: str) -> int:
    """The check digit of a 12-digit foreign national identifier (کد فراگیر اتباع, FIDA).

    The simulation's rule, the national code's extended to eleven digits: weights 12 down to 2,
    remainder ``r`` of the sum by 11, check digit ``r`` if ``r < 2`` else ``11 - r``. (The real
    FIDA rule is not published; this one catches every single-digit error and adjacent swap.)
    """
    total = sum(int(digit) * (12 - position) for position, digit in enumerate(body11))
    remainder = total % 11
    return remainder if remainder < 2 else 11 - remainder


def is_valid_fida(code: str) -> bool:
    if len(code or "") != 12 or not code.isdigit() or code[0] == "0":
        return False
    return fida_check_digit(code[:11]) == int(code[11])


_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """The ninth character of a 17-character VIN (ISO 3779 transliteration, weights, mod 11)."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def is_valid_vin(vin: str) -> bool:
    if len(vin or "") != 17 or any(c not in _VIN_VALUES for c in vin):
        return False
    return vin[8] == vin_check_digit(vin)


def _persian(value: object) -> str:
    return str(value).translate(PERSIAN_DIGITS)


def _weighted(rng: random.Random, options, weight_at: int):
    return rng.choices(options, weights=[o[weight_at] for o in options])[0]


def _vin_year_code(year: int) -> str:
    # Model-year characters cycle every 30 years; 2010 is "A", 2001 is "1".
    codes = "ABCDEFGHJKLMNPRSTVWXY123456789"
    return codes[(year - 2010) % 30]


class _StateRegistries:
    """What the seven later registries answer; mixed into :class:`Population`."""

    seed: int
    size: int

    # -- the household's economy -------------------------------------------------------------

    @lru_cache(maxsize=65_536)  # noqa: B019
    def economy(self, k: int) -> dict[str, Any]:
        house = self.household(k)
        rng = self._rng("economy", k)
        base = rng.random()
        if house["relief"]:
            wealth = base * 0.15
        elif house["owns_home"]:
            wealth = 0.25 + base * 0.75
        else:
            wealth = base * 0.8
        return {
            "wealth": wealth,
            "decile": min(10, 1 + int(wealth * 10)),
            "rural": rng.random() < 0.25,
            "government_employee": rng.random() < 0.10,
            "armed_forces": rng.random() < 0.04,
            "other_fund": rng.random() < 0.03,
            "uninsured": rng.random() < 0.04,
            "self_employed": rng.random() < 0.30,
            "vehicles": (rng.random() < 0.35 + 0.55 * wealth) + (rng.random() < 0.1 + 0.4 * wealth),
        }

    # -- tax (Iranian National Tax Administration) ------------------------------------------

    def taxpayer(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        k = p["household"]
        economy = self.economy(k)
        rng = self._rng("tax", i)
        earner = p["age"] >= 18 and (p["role"] == 0 or rng.random() < 0.3)
        registered = earner and (
            (p["role"] == 0 and economy["self_employed"]) or rng.random() < 0.08
        )
        if not registered:
            return {
                "registered": False,
                "tax_file_number": None,
                "activity": None,
                "tax_office": None,
                "status": None,
            }
        province = self.household(k)["province"]
        return {
            "registered": True,
            "tax_file_number": f"{rng.randrange(10**9, 10**10)}",
            "activity": rng.choice(("retail", "services", "professional", "rental", "trade")),
            "tax_office": f"اداره کل امور مالیاتی استان {province}",
            "status": "active" if p["alive"] and rng.random() < 0.9 else "inactive",
        }

    def income_bracket(self, i: int) -> dict[str, Any]:
        """The person's band in the income tax scale of the last tax year (rate in percent)."""
        p = self.person(i)
        economy = self.economy(p["household"])
        rng = self._rng("income", i)
        earner = p["age"] >= 18 and p["alive"] and (p["role"] == 0 or rng.random() < 0.3)
        if not earner:
            rate = 0
        else:
            score = economy["wealth"] + rng.uniform(-0.15, 0.15)
            rate = 0 if score < 0.45 else 10 if score < 0.65 else 15 if score < 0.8 else 20
            rate = 30 if score > 0.95 else rate
        return {"tax_year": 1402, "rate_percent": rate, "exempt": rate == 0}

    def tax_clearance(self, i: int) -> dict[str, Any]:
        taxpayer = self.taxpayer(i)
        rng = self._rng("clearance", i)
        debt = 0
        if taxpayer["registered"] and rng.random() < 0.15:
            debt = rng.randrange(1, 500) * 1_000_000
        return {
            "clear": debt == 0,
            "outstanding_rial": debt,
            "as_of": REFERENCE_DATE.isoformat(),
            "as_of_jalali": jalali(REFERENCE_DATE),
        }

    # -- vehicles and driving licences (Traffic Police) --------------------------------------

    def vin(self, v: int) -> str | None:
        k, slot = divmod(v, 2)
        if not 0 <= v < _VIN_MOD or k >= self.households or slot >= self.economy(k)["vehicles"]:
            return None  # (serials have seven digits: vehicles of the first 2*10**7 people)
        model, wmi, _kind, _least = self._vehicle_model(v)
        year = self._vehicle_year(v)
        serial = f"{(_VIN_MUL * v + self._offset(6)) % _VIN_MOD:07d}"
        vds = f"{VEHICLE_MODELS.index(self._vehicle_model(v)):02d}"
        body = f"{wmi}M{vds}A1"  # world maker, make line, body, engine
        partial = body + "0" + _vin_year_code(year) + serial
        return partial[:8] + vin_check_digit(partial) + partial[9:]

    def vehicle_of_vin(self, vin: str) -> int | None:
        if not is_valid_vin(vin or ""):
            return None
        serial = vin[10:]
        if not serial.isdigit():
            return None
        v = ((int(serial) - self._offset(6)) * pow(_VIN_MUL, -1, _VIN_MOD)) % _VIN_MOD
        return v if self.vin(v) == vin else None

    def _vehicle_model(self, v: int) -> tuple[str, str, str, float]:
        rng = self._rng("vehicle", v)
        wealth = self.economy(v // 2)["wealth"]
        affordable = [m for m in VEHICLE_MODELS if m[3] <= wealth] or [VEHICLE_MODELS[0]]
        return rng.choice(affordable)

    def _vehicle_year(self, v: int) -> int:
        return 2000 + self._rng("vehicle-year", v).randrange(25)

    def vehicle(self, v: int) -> dict[str, Any] | None:
        vin = self.vin(v)
        if vin is None:
            return None
        k, slot = divmod(v, 2)
        house = self.household(k)
        rng = self._rng("plate", v)
        owner = 4 * k if slot == 0 else 4 * k + 1 + rng.randrange(3)
        model, _wmi, kind, _least = self._vehicle_model(v)
        year = self._vehicle_year(v)
        letter = rng.choice(PLATE_LETTERS)
        code = rng.choice(PLATE_CODES[house["province"]])
        if kind == "motorcycle":
            plate = f"{_persian(rng.randrange(111, 999))} - {_persian(rng.randrange(10000, 99999))}"
        else:
            plate = (
                f"{_persian(rng.randrange(11, 99))} {letter} {_persian(rng.randrange(111, 999))}"
                f" ایران {_persian(code)}"
            )
        draw = rng.random()
        status = "scrapped" if draw < 0.02 else "reported_stolen" if draw < 0.025 else "active"
        return {
            "vin": vin,
            "plate": plate,
            "owner_national_code": self.national_code(owner),
            "make_model": model,
            "kind": kind,
            "model_year": year,
            "colour": rng.choice(VEHICLE_COLOURS),
            "status": status,
        }

    def owned_vehicles(self, i: int) -> list[dict[str, Any]]:
        k = self.person(i)["household"]
        code = self.national_code(i)
        vehicles = (self.vehicle(2 * k), self.vehicle(2 * k + 1))
        return [v for v in vehicles if v and v["owner_national_code"] == code]

    def driving_licence(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        rng = self._rng("licence", i)
        chance = 0.75 if p["sex"] == "male" else 0.4
        if p["age"] < 18 or rng.random() >= chance:
            return {
                "has_licence": False,
                "licence_number": None,
                "classes": [],
                "issued": None,
                "valid_until": None,
                "status": None,
            }
        first = p["birth_date"].year + 18 + rng.randrange(max(1, min(20, p["age"] - 17)))
        issued = min(_day(rng, first), REFERENCE_DATE)
        renewed = issued
        while renewed + dt.timedelta(days=3652) < REFERENCE_DATE and rng.random() < 0.8:
            renewed += dt.timedelta(days=3652)
        valid_until = renewed + dt.timedelta(days=3652)
        classes = ["پایه سوم"]
        if rng.random() < 0.2:
            classes.append("پایه دوم")
        if p["sex"] == "male" and rng.random() < 0.3:
            classes.append("موتورسیکلت")
        if not p["alive"]:
            status = "cancelled"
        elif valid_until < REFERENCE_DATE:
            status = "expired"
        else:
            status = "suspended" if rng.random() < 0.01 else "valid"
        return {
            "has_licence": True,
            "licence_number": f"{rng.randrange(10**9, 10**10)}",
            "classes": classes,
            "issued": issued.isoformat(),
            "valid_until": valid_until.isoformat(),
            "status": status,
        }

    # -- health insurance (Iran Health Insurance Organization) -------------------------------

    def health_coverage(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        k = p["household"]
        economy = self.economy(k)
        house = self.household(k)
        rng = self._rng("health-insurance", i)
        relation = "main_insured"
        insurer = scheme = None
        if self.insurance_record(i)["insured"]:
            insurer = "ssi"
        elif (p["role"] >= 2 and p["age"] < 20) or p["role"] == 1:
            # A dependant of an insured parent (or spouse).
            for parent in (4 * k, 4 * k + 1):
                if parent != i and self.insurance_record(parent)["insured"]:
                    insurer, relation = "ssi", "dependant"
                    break
        if insurer is None:
            if economy["armed_forces"]:
                insurer = "armed_forces"
            elif economy["other_fund"]:
                insurer = "other_fund"
            elif economy["uninsured"] and not house["relief"]:
                insurer = None
            else:
                insurer = "ihio"
                if house["relief"]:
                    scheme = "relief"
                elif economy["government_employee"]:
                    scheme = "government_employees"
                elif economy["rural"]:
                    scheme = "rural"
                else:
                    scheme = "universal"
                if p["role"] != 0 and scheme in ("government_employees",):
                    relation = "dependant"
        if insurer is None or not p["alive"]:
            return {
                "covered": False,
                "insurer": None,
                "insurer_name": None,
                "scheme": None,
                "scheme_name": None,
                "relation": None,
                "insured_number": None,
                "valid_until": None,
            }
        valid_until = REFERENCE_DATE + dt.timedelta(days=30 + rng.randrange(335))
        return {
            "covered": True,
            "insurer": insurer,
            "insurer_name": HEALTH_INSURERS[insurer],
            "scheme": scheme,
            "scheme_name": IHIO_SCHEMES.get(scheme or ""),
            "relation": relation,
            "insured_number": f"{rng.randrange(10**10, 10**11)}",
            "valid_until": valid_until.isoformat(),
        }

    def family_physician(self, i: int) -> dict[str, Any]:
        """The family physician programme: every rural household, and urban ones in Fars and
        Mazandaran (the provinces of the urban pilot)."""
        p = self.person(i)
        k = p["household"]
        house = self.household(k)
        enrolled = p["alive"] and (
            self.economy(k)["rural"] or house["province"] in ("فارس", "مازندران")
        )
        if not enrolled:
            return {"enrolled": False, "physician": None, "health_centre": None}
        rng = self._rng("physician", k)
        sex = rng.choice(("male", "female"))
        name = rng.choice(MALE_NAMES if sex == "male" else FEMALE_NAMES)
        return {
            "enrolled": True,
            "physician": f"دکتر {name} {rng.choice(SURNAMES)}",
            "health_centre": f"مرکز خدمات جامع سلامت {house['city']} شماره {rng.randrange(1, 30)}",
        }

    # -- subsidies and welfare (Iranian Welfare Database) ------------------------------------

    def subsidy(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        decile = self.economy(p["household"])["decile"]
        per_person = 0 if decile == 10 else 4_000_000 if decile <= 3 else 3_000_000
        return {
            "decile": decile,
            "as_of": REFERENCE_DATE.isoformat(),
            "cash_subsidy": per_person > 0 and p["alive"],
            "monthly_rial_per_person": per_person,
            "electronic_coupon": decile <= 7 and p["alive"],
        }

    def welfare_household(self, i: int) -> dict[str, Any]:
        k = self.person(i)["household"]
        alive = [j for j in range(4 * k, 4 * k + HOUSEHOLD_SIZE) if self.person(j)["alive"]]
        head = alive[0] if alive else 4 * k
        relations = ("head", "spouse", "child", "child")
        members = []
        for j in alive:
            other = self.person(j)
            relation = "head" if j == head else relations[other["role"]]
            members.append(
                {
                    "national_code": self.national_code(j),
                    "first_name": other["first_name"],
                    "last_name": other["last_name"],
                    "relation": relation,
                    "birth_date": other["birth_date"].isoformat(),
                }
            )
        return {
            "head_national_code": self.national_code(head),
            "members": members,
            "size": len(members),
        }

    # -- vocational certificates (Technical and Vocational Training Organization) ------------

    def _certificate_count(self, i: int) -> int:
        p = self.person(i)
        rng = self._rng("vocational", i)
        if p["age"] < 16 or rng.random() >= 0.18:
            return 0
        return 1 + (rng.random() < 0.3) + (rng.random() < 0.1)

    def certificate_number(self, i: int, n: int) -> str:
        body = f"{(_VOC_MUL * (3 * i + n) + self._offset(7)) % _VOC_MOD:011d}"
        return body + str(luhn_check_digit(body))

    def certificate_of_number(self, number: str) -> tuple[int, int] | None:
        if len(number or "") != 12 or not number.isdigit():
            return None
        if luhn_check_digit(number[:11]) != int(number[11]):
            return None
        c = ((int(number[:11]) - self._offset(7)) * pow(_VOC_MUL, -1, _VOC_MOD)) % _VOC_MOD
        i, n = divmod(c, 3)
        if i >= self.size or n >= self._certificate_count(i):
            return None
        return i, n

    def certificate(self, i: int, n: int) -> dict[str, Any]:
        p = self.person(i)
        rng = self._rng(f"vocational-{n}", i)
        weights = [s[2] if p["sex"] == "male" else 1 - s[2] for s in VOCATIONAL_STANDARDS]
        title, standard, _men = rng.choices(VOCATIONAL_STANDARDS, weights=weights)[0]
        year = min(p["birth_date"].year + 16 + rng.randrange(max(1, p["age"] - 15)), 2024)
        issued = min(_day(rng, year), REFERENCE_DATE)
        city = self.household(p["household"])["city"]
        return {
            "certificate_number": self.certificate_number(i, n),
            "holder_national_code": self.national_code(i),
            "title": title,
            "standard_code": standard,
            "issued": issued.isoformat(),
            "issued_jalali": jalali(issued),
            "centre": f"مرکز آموزش فنی و حرفه‌ای {city}",
            "authentic": True,
        }

    def certificates(self, i: int) -> list[dict[str, Any]]:
        return [self.certificate(i, n) for n in range(self._certificate_count(i))]

    # -- location-based address (National Post Company, GNAF) --------------------------------

    def geo(self, k: int) -> dict[str, Any] | None:
        house = self.household(k)
        if not house["has_residence"]:
            return None
        rng = self._rng("geo", k)
        latitude, longitude = CITY_CENTRES[house["city"]]
        rural = self.economy(k)["rural"]
        spread = 0.25 if rural else 0.05  # villages lie farther from the city centre
        return {
            "postcode": self.postcode(k),
            "latitude": round(latitude + rng.uniform(-spread, spread), 6),
            "longitude": round(longitude + rng.uniform(-spread, spread), 6),
            "accuracy_m": rng.choice((5, 10, 25, 50)) if not house["address_incomplete"] else 500,
            "settlement": "rural" if rural else "urban",
            "municipal_district": None
            if rural
            else rng.randrange(1, 23 if house["city"] == "تهران" else 9),
            "building_id": f"{k:09d}{rng.randrange(100):02d}",
        }

    # -- foreign nationals (National Organization for Foreign Nationals and Immigrants) ------

    @property
    def foreigners(self) -> int:
        return max(1, self.size // FOREIGN_SHARE)

    def fida(self, f: int) -> str:
        body = str(10**10 + (_FIDA_MUL * f + self._offset(8)) % _FIDA_MOD)
        return body + str(fida_check_digit(body))

    def foreigner_of_fida(self, code: str) -> int | None:
        if not is_valid_fida(code or ""):
            return None
        value = int(code[:11]) - 10**10
        f = ((value - self._offset(8)) * pow(_FIDA_MUL, -1, _FIDA_MOD)) % _FIDA_MOD
        return f if f < self.foreigners else None

    @lru_cache(maxsize=16_384)  # noqa: B019
    def foreigner(self, f: int) -> dict[str, Any]:
        if not 0 <= f < self.foreigners:
            raise IndexError(f)
        rng = self._rng("foreigner", f)
        nationality, iso, _share = _weighted(rng, NATIONALITIES, 2)
        sex = "male" if rng.random() < 0.55 else "female"
        birth = _day(rng, 1950 + rng.randrange(70))
        permit, permit_fa, _share, months = _weighted(rng, PERMIT_TYPES, 2)
        province = _weighted(rng, FOREIGN_PROVINCES, 1)[0]
        cities = dict(PROVINCES)[province]
        has_passport = permit not in ("refugee_card", "census_slip") or rng.random() < 0.1
        letter = {"AFG": "P", "IRQ": "A", "PAK": "AB"}.get(iso, "N")
        issued = REFERENCE_DATE - dt.timedelta(days=rng.randrange(30 * (months + 6)))
        valid_until = issued + dt.timedelta(days=30 * months)
        return {
            "fida_code": self.fida(f),
            "first_name": rng.choice(FOREIGN_MALE_NAMES if sex == "male" else FOREIGN_FEMALE_NAMES),
            "last_name": rng.choice(FOREIGN_SURNAMES),
            "father_name": rng.choice(FOREIGN_MALE_NAMES),
            "sex": sex,
            "birth_date": birth.isoformat(),
            "birth_date_jalali": jalali(birth),
            "nationality": nationality,
            "nationality_code": iso,
            "passport_number": f"{letter}{rng.randrange(10**7):07d}" if has_passport else None,
            "permit_type": permit,
            "permit_type_fa": permit_fa,
            "permit_number": f"{rng.randrange(10**8, 10**9)}",
            "issued": issued.isoformat(),
            "valid_until": valid_until.isoformat(),
            "valid": valid_until >= REFERENCE_DATE,
            "province": province,
            "city": rng.choice(cities),
        }


@dataclass(frozen=True)
class Population(_StateRegistries):
    """The synthetic population of ``size`` people (a multiple of four) for ``seed``."""

    seed: int = 1404
    size: int = 10_000

    def __post_init__(self) -> None:
        if self.size % HOUSEHOLD_SIZE or self.size <= 0 or self.size > _NC_MOD:
            raise ValueError("size must be a positive multiple of 4 below 10**9")

    # -- identifiers ------------------------------------------------------------------------

    @property
    def households(self) -> int:
        return self.size // HOUSEHOLD_SIZE

    @property
    def companies(self) -> int:
        return max(1, self.size // 25)

    def _offset(self, salt: int) -> int:
        return (self.seed * 1_000_003 + salt * 7_919) % _NC_MOD

    def national_code(self, i: int) -> str:
        body = f"{(_NC_MUL * i + self._offset(1)) % _NC_MOD:09d}"
        return body + str(national_code_check_digit(body))

    def index_of(self, national_code: str) -> int | None:
        """The person's index for a national code, or None if nobody has it."""
        if not is_valid_national_code(national_code or ""):
            return None
        body = int(national_code[:9])
        i = ((body - self._offset(1)) * pow(_NC_MUL, -1, _NC_MOD)) % _NC_MOD
        return i if i < self.size else None

    def mobile(self, i: int) -> str | None:
        person = self.person(i)
        if person["age"] < 15 or not person["alive"] or person["_no_mobile"]:
            return None
        return "09" + f"{(_MOBILE_MUL * i + self._offset(2)) % _NC_MOD:09d}"

    def mobile_owner(self, mobile: str) -> int | None:
        if len(mobile or "") != 11 or not mobile.startswith("09") or not mobile.isdigit():
            return None
        body = int(mobile[2:])
        i = ((body - self._offset(2)) * pow(_MOBILE_MUL, -1, _NC_MOD)) % _NC_MOD
        if i >= self.size or self.mobile(i) != mobile:
            return None
        return i

    def postcode(self, k: int) -> str:
        return str(10**9 + (_POST_MUL * k + self._offset(3)) % _POST_MOD)

    def household_of_postcode(self, postcode: str) -> int | None:
        if len(postcode or "") != 10 or not postcode.isdigit() or postcode[0] == "0":
            return None
        value = int(postcode) - 10**9
        if not 0 <= value < _POST_MOD:
            return None
        k = ((value - self._offset(3)) * pow(_POST_MUL, -1, _POST_MOD)) % _POST_MOD
        return k if k < self.households else None

    def company_id(self, j: int) -> str:
        body = str(10**9 + (_COMPANY_MUL * j + self._offset(4)) % _COMPANY_MOD)
        return body + str(legal_person_check_digit(body))

    def company_of_id(self, national_id: str) -> int | None:
        if not is_valid_legal_person_id(national_id or ""):
            return None
        value = int(national_id[:10]) - 10**9
        if not 0 <= value < _COMPANY_MOD:
            return None
        j = ((value - self._offset(4)) * pow(_COMPANY_MUL, -1, _COMPANY_MOD)) % _COMPANY_MOD
        return j if j < self.companies else None

    def deed_serial(self, k: int) -> str:
        return f"{(_DEED_MUL * k + self._offset(5)) % _DEED_MOD:08d}"

    def household_of_deed(self, serial: str) -> int | None:
        if len(serial or "") != 8 or not serial.isdigit():
            return None
        k = ((int(serial) - self._offset(5)) * pow(_DEED_MUL, -1, _DEED_MOD)) % _DEED_MOD
        return k if k < self.households else None

    def _rng(self, tag: str, n: int) -> random.Random:
        return random.Random(f"{self.seed}:{tag}:{n}")

    # -- households and people --------------------------------------------------------------

    @lru_cache(maxsize=65_536)  # noqa: B019 -- instances are few and live as long as the process
    def household(self, k: int) -> dict[str, Any]:
        rng = self._rng("household", k)
        father_year = 1945 + rng.randrange(55)
        mother_year = father_year + rng.randrange(-2, 9)
        first_child = min(mother_year + 20 + rng.randrange(18), REFERENCE_DATE.year - 1)
        second_child = min(first_child + 1 + rng.randrange(8), REFERENCE_DATE.year)
        province, cities = PROVINCES[rng.randrange(len(PROVINCES))]
        has_residence = rng.random() >= 0.04  # missing residence, as in the real registries
        return {
            "index": k,
            "surname": rng.choice(SURNAMES),
            "mother_surname": rng.choice(SURNAMES),
            "years": (father_year, mother_year, first_child, second_child),
            "province": province,
            "city": rng.choice(cities),
            "street": rng.choice(STREETS),
            "alley": rng.randrange(1, 40),
            "plaque": rng.randrange(1, 300),
            "unit": rng.randrange(1, 20) if rng.random() < 0.6 else None,
            "address_incomplete": rng.random() < 0.03,
            "has_residence": has_residence,
            "relief": rng.random() < 0.05,
            "relief_since": 2005 + rng.randrange(19),
            "owns_home": rng.random() < 0.6,
            "deed_incomplete": rng.random() < 0.08,
            "area": 45 + rng.randrange(200),
            "grandparents": rng.random() < 0.5,
        }

    @lru_cache(maxsize=65_536)  # noqa: B019
    def person(self, i: int) -> dict[str, Any]:
        """The civil facts of person ``i`` (private keys start with an underscore)."""
        if not 0 <= i < self.size:
            raise IndexError(i)
        k, role = divmod(i, HOUSEHOLD_SIZE)
        house = self.household(k)
        rng = self._rng("person", i)
        sex = "male" if role == 0 else "female" if role == 1 else rng.choice(("male", "female"))
        first_name = rng.choice(MALE_NAMES if sex == "male" else FEMALE_NAMES)
        birth = _day(rng, house["years"][role])
        if birth > REFERENCE_DATE:
            birth = REFERENCE_DATE - dt.timedelta(days=rng.randrange(1, 60))
        age = _age(birth)
        is_child = role >= 2
        father = 4 * k if is_child else None
        mother = 4 * k + 1 if is_child else None
        surname = house["mother_surname"] if role == 1 else house["surname"]
        if is_child:
            father_name = self._first_name(father)
        else:
            father_name = self._rng("grandfather", i).choice(MALE_NAMES)
        dead = (age > 75 and rng.random() < 0.35) or rng.random() < 0.01
        death = None
        if dead and age > 1:
            death = birth + dt.timedelta(days=rng.randrange(365, max(366, (age - 1) * 365)))
            death = min(death, REFERENCE_DATE - dt.timedelta(days=1))
        if role < 2:
            marital = "married"
        elif age >= 24 and rng.random() < 0.5:
            marital = "married"
        else:
            marital = "single"
        return {
            "index": i,
            "household": k,
            "role": role,
            "sex": sex,
            "first_name": first_name,
            "last_name": surname,
            "father_name": father_name,
            "birth_date": birth,
            "age": age,
            "father": father,
            "mother": mother,
            "alive": death is None,
            "death_date": death,
            "marital_status": marital,
            "birth_certificate_place": house["city"],
            "_no_mobile": rng.random() < 0.05,
        }

    def _first_name(self, i: int) -> str:
        return self.person(i)["first_name"]

    # -- what each registry answers ---------------------------------------------------------

    def civil_identity(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        return {
            "national_code": self.national_code(i),
            "first_name": p["first_name"],
            "last_name": p["last_name"],
            "father_name": p["father_name"],
            "sex": p["sex"],
            "birth_date": p["birth_date"].isoformat(),
            "birth_date_jalali": jalali(p["birth_date"]),
            "marital_status": p["marital_status"],
            "alive": p["alive"],
            "death_date": p["death_date"].isoformat() if p["death_date"] else None,
        }

    def civil_household(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        k = p["household"]
        relations = ("father", "mother", "child", "child")
        members = []
        for role in range(HOUSEHOLD_SIZE):
            j = 4 * k + role
            other = self.person(j)
            members.append(
                {
                    "national_code": self.national_code(j),
                    "first_name": other["first_name"],
                    "last_name": other["last_name"],
                    "relation": relations[role],
                    "alive": other["alive"],
                }
            )
        return {
            "national_code": self.national_code(i),
            "father_national_code": self.national_code(p["father"])
            if p["father"] is not None
            else None,
            "mother_national_code": self.national_code(p["mother"])
            if p["mother"] is not None
            else None,
            "members": members,
        }

    def civil_birth_record(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        rng = self._rng("birthreg", i)
        return {
            "national_code": self.national_code(i),
            "birth_registration_number": f"{rng.randrange(1, 999_999)}",
            "birth_date": p["birth_date"].isoformat(),
            "birth_place": p["birth_certificate_place"],
            "father_national_code": self.national_code(p["father"])
            if p["father"] is not None
            else None,
            "mother_national_code": self.national_code(p["mother"])
            if p["mother"] is not None
            else None,
        }

    def civil_death_record(self, i: int) -> dict[str, Any] | None:
        p = self.person(i)
        if p["alive"]:
            return None
        rng = self._rng("death", i)
        return {
            "national_code": self.national_code(i),
            "death_date": p["death_date"].isoformat(),
            "death_date_jalali": jalali(p["death_date"]),
            "death_place": self.household(p["household"])["city"],
            "death_certificate_number": f"{rng.randrange(1, 9_999_999):07d}",
        }

    def civil_photo(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        hue = (i * 47) % 360
        initials = p["first_name"][0] + p["last_name"][0]
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="120">'
            f'<rect width="96" height="120" fill="hsl({hue},45%,75%)"/>'
            '<text x="48" y="70" font-size="32" text-anchor="middle" font-family="sans-serif">'
            f"{initials}</text></svg>"
        )
        encoded = base64.b64encode(svg.encode()).decode()
        return {
            "national_code": self.national_code(i),
            "photo": f"data:image/svg+xml;base64,{encoded}",
        }

    def address(self, k: int) -> dict[str, Any] | None:
        house = self.household(k)
        if not house["has_residence"]:
            return None
        incomplete = house["address_incomplete"]
        return {
            "postcode": self.postcode(k),
            "province": house["province"],
            "city": house["city"],
            "street": f"خیابان {house['street']}",
            "alley": None if incomplete else f"کوچه {house['alley']}",
            "plaque": None if incomplete else house["plaque"],
            "unit": house["unit"],
        }

    def residence(self, i: int) -> str | None:
        k = self.person(i)["household"]
        return self.postcode(k) if self.household(k)["has_residence"] else None

    def deeds(self, i: int) -> list[dict[str, Any]]:
        """Deeds held by person ``i``: the father of a home-owning household holds its deed."""
        p = self.person(i)
        k = p["household"]
        house = self.household(k)
        if p["role"] != 0 or not house["owns_home"]:
            return []
        return [self.deed(k)]

    def deed(self, k: int) -> dict[str, Any] | None:
        house = self.household(k)
        if not house["owns_home"]:
            return None
        incomplete = house["deed_incomplete"]  # missing deed data, as the report found
        return {
            "serial": self.deed_serial(k),
            "owner_national_code": self.national_code(4 * k),
            "registry_plate": None if incomplete else f"{k % 9000 + 100}/{k % 97 + 1}",
            "area_m2": None if incomplete else house["area"],
            "postcode": self.postcode(k) if house["has_residence"] else None,
            "authentic": True,
        }

    def company(self, j: int) -> dict[str, Any]:
        rng = self._rng("company", j)
        founded = _day(rng, 1975 + rng.randrange(50))
        founded = min(founded, REFERENCE_DATE)
        ceo = 4 * rng.randrange(self.households)  # a household father
        seat = rng.randrange(self.households)
        dissolved = rng.random() < 0.07
        return {
            "national_id": self.company_id(j),
            "name": f"شرکت {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)}",
            "kind": rng.choice(COMPANY_KINDS),
            "registration_number": str(1000 + j),
            "registration_date": founded.isoformat(),
            "registration_date_jalali": jalali(founded),
            "ceo_national_code": self.national_code(ceo),
            "postcode": self.postcode(seat) if self.household(seat)["has_residence"] else None,
            "status": "dissolved" if dissolved else "active",
        }

    def company_representatives(self, j: int) -> list[dict[str, Any]]:
        """Who acts for company ``j`` today, as the official gazette's latest notice names them:
        the chief executive (the record's ``ceo_national_code``), two more board members and the
        authorised signatories (the CEO and one board member sign together), each with the day
        they took the role. A separate random stream, so the company's particulars stay as
        they were."""
        record = self.company(j)
        rng = self._rng("company-board", j)
        founded = dt.date.fromisoformat(record["registration_date"])
        span = max(1, (REFERENCE_DATE - founded).days)

        def since() -> str:
            return (founded + dt.timedelta(days=rng.randrange(span))).isoformat()

        ceo = record["ceo_national_code"]
        board: list[str] = []
        while len(board) < 2:
            # Adults: household fathers and mothers, never the CEO twice.
            code = self.national_code(4 * rng.randrange(self.households) + rng.randrange(2))
            if code != ceo and code not in board:
                board.append(code)
        ceo_since = since()
        rows = [{"national_code": ceo, "role": "ceo", "since": ceo_since}]
        rows += [{"national_code": code, "role": "board", "since": since()} for code in board]
        rows.append({"national_code": ceo, "role": "signatory", "since": ceo_since})
        rows.append({"national_code": board[0], "role": "signatory", "since": rows[1]["since"]})
        for row in rows:
            row["since_jalali"] = jalali(dt.date.fromisoformat(row["since"]))
        return rows

    def companies_of(self, national_code: str, limit: int = 5) -> list[int]:
        """The companies (indexes) whose representatives include ``national_code``: a scan, for
        the demo and the tests to find a director (a registry answers by company, not by
        person)."""
        found = []
        for j in range(self.companies):
            if any(r["national_code"] == national_code for r in self.company_representatives(j)):
                found.append(j)
                if len(found) >= limit:
                    break
        return found

    def hospital_birth(self, i: int) -> dict[str, Any] | None:
        p = self.person(i)
        if p["role"] < 2 or p["birth_date"].year < 1995:
            return None
        rng = self._rng("hospital", i)
        if rng.random() < 0.1:  # home births and older paper records
            return None
        moment = dt.datetime.combine(p["birth_date"], dt.time(rng.randrange(24), rng.randrange(60)))
        return {
            "child_national_code": self.national_code(i),
            "mother_national_code": self.national_code(p["mother"]),
            "hospital": rng.choice(HOSPITALS),
            "city": self.household(p["household"])["city"],
            "birth_time": moment.isoformat(),
            "birth_time_jalali": jalali(moment),
            "sex": p["sex"],
            "weight_g": 2300 + rng.randrange(2200),
        }

    def hospital_births_of_mother(self, i: int) -> list[dict[str, Any]]:
        p = self.person(i)
        if p["role"] != 1:
            return []
        k = p["household"]
        births = (self.hospital_birth(4 * k + 2), self.hospital_birth(4 * k + 3))
        return [b for b in births if b]

    def degrees(self, i: int) -> list[dict[str, Any]]:
        p = self.person(i)
        rng = self._rng("degree", i)
        if p["age"] < 22 or rng.random() >= 0.35:
            return []
        result = []
        year = p["birth_date"].year + 22 + rng.randrange(3)
        for level, chance in (("bachelor", 1.0), ("master", 0.3), ("doctorate", 0.3)):
            if rng.random() >= chance or year > REFERENCE_DATE.year:
                break
            result.append(
                {
                    "level": level,
                    "field": rng.choice(FIELDS),
                    "university": rng.choice(UNIVERSITIES),
                    "graduation_year": year,
                    "certificate_number": f"{rng.randrange(10**9):09d}",
                }
            )
            year += 2 + rng.randrange(3)
        return result

    def student_status(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        rng = self._rng("student", i)
        enrolled = 18 <= p["age"] <= 28 and p["alive"] and rng.random() < 0.4
        return {
            "enrolled": enrolled,
            "university": rng.choice(UNIVERSITIES) if enrolled else None,
            "field": rng.choice(FIELDS) if enrolled else None,
            "level": rng.choice(("bachelor", "master", "doctorate")) if enrolled else None,
            "entry_year": REFERENCE_DATE.year - rng.randrange(1, 5) if enrolled else None,
        }

    def school_record(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        rng = self._rng("school", i)
        if 7 <= p["age"] <= 18:
            return {"in_school": True, "grade": p["age"] - 6, "diploma_year": None}
        has_diploma = p["age"] > 18 and rng.random() < 0.8
        return {
            "in_school": False,
            "grade": None,
            "diploma_year": p["birth_date"].year + 18 if has_diploma else None,
        }

    def criminal_record(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        rng = self._rng("criminal", i)
        convictions = []
        if p["age"] >= 18 and rng.random() < 0.03:
            for _ in range(1 + (rng.random() < 0.3)):
                verdict = _day(
                    rng, p["birth_date"].year + 18 + rng.randrange(max(1, p["age"] - 18))
                )
                verdict = min(verdict, REFERENCE_DATE)
                convictions.append(
                    {
                        "offence": rng.choice(OFFENCES),
                        "court": f"دادگاه کیفری {self.household(p['household'])['city']}",
                        "verdict_date": verdict.isoformat(),
                        "verdict_date_jalali": jalali(verdict),
                        "effective": rng.random() < 0.6,
                    }
                )
        return {"has_record": bool(convictions), "convictions": convictions}

    def veteran_status(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        rng = self._rng("veteran", i)
        status = None
        percent = None
        if p["sex"] == "male" and p["birth_date"].year <= 1970 and rng.random() < 0.12:
            status = rng.choice(("combatant", "disabled_veteran", "former_pow"))
            percent = 5 + rng.randrange(66) if status == "disabled_veteran" else None
        return {"is_veteran": status is not None, "status": status, "disability_percent": percent}

    def relief_status(self, i: int) -> dict[str, Any]:
        house = self.household(self.person(i)["household"])
        return {
            "beneficiary": house["relief"],
            "since_year": house["relief_since"] if house["relief"] else None,
            "programme": "مستمری ماهانه" if house["relief"] else None,
        }

    def insurance_record(self, i: int) -> dict[str, Any]:
        p = self.person(i)
        rng = self._rng("insurance", i)
        insured = 18 <= p["age"] <= 65 and p["alive"] and rng.random() < 0.6
        if not insured:
            return {
                "insured": False,
                "insurance_number": None,
                "employer_national_id": None,
                "months_contributed": 0,
                "last_contribution": None,
            }
        months = min((p["age"] - 18) * 12, 1 + rng.randrange(360))
        return {
            "insured": True,
            "insurance_number": f"{rng.randrange(10**9):010d}",
            "employer_national_id": self.company_id(rng.randrange(self.companies)),
            "months_contributed": months,
            "last_contribution": jalali(REFERENCE_DATE - dt.timedelta(days=rng.randrange(120)))[:7],
        }
