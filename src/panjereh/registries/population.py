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


@dataclass(frozen=True)
class Population:
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
