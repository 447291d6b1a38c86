"""Closed vocabularies of the catalogue, with Persian and English labels.

Codes are stable identifiers used in files, APIs and the database; labels are for people.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AgencyKind(models.TextChoices):
    MINISTRY = "ministry", _("Ministry")
    ORGANISATION = "organisation", _("Organisation")
    STATE_COMPANY = "state_company", _("State company")
    MUNICIPALITY = "municipality", _("Municipality")
    AGENT_BANK = "agent_bank", _("Agent bank")
    UNIVERSITY = "university", _("University")
    HOSPITAL = "hospital", _("Hospital")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution")


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    NOT_CONNECTED = "not_connected", _("Not connected")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class ConnectionForm(models.TextChoices):
    NONE = "", _("None")
    DIRECT = "direct", _("Directly in the national window")
    NATIONAL_SYSTEM = "national_system", _("Through a national system")
    AGENCY_WINDOW = "agency_window", _("Through its own agency window")


class ServiceLevel(models.TextChoices):
    MACRO = "macro", _("Macro service")
    SERVICE = "service", _("Service")
    SUB = "sub", _("Sub-service")


class Recipient(models.TextChoices):
    G2C = "G2C", _("Citizens")
    G2B = "G2B", _("Businesses")
    G2G = "G2G", _("Government")


class Scope(models.TextChoices):
    CONNECTABLE = "connectable", _("Eligible for electronification and connection")
    EXEMPT = "exempt", _("Exempt")


class ElectronificationLevel(models.IntegerChoices):
    NONE = 0, _("Not electronic")
    INFORMATION = 1, _("Information only")
    ONE_WAY = 2, _("Forms online")
    TWO_WAY = 3, _("Partly electronic")
    FULL = 4, _("Fully electronic")


class SmartStatus(models.TextChoices):
    NONE = "none", _("Not smart")
    PROPOSED = "proposed", _("Proposed as smart")
    CERTIFIED = "certified", _("Certified by AEO")
    APPROVED = "approved", _("Approved smart")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    MOBILE = "mobile", _("Mobile app")
    KIOSK = "kiosk", _("Kiosk or service office")
    PHONE = "phone", _("Telephone")
    IN_PERSON = "in_person", _("In person at the agency")


class Category(models.TextChoices):
    IDENTITY = "identity", _("Identity and civil status")
    EDUCATION = "education", _("Education")
    HEALTH = "health", _("Health and insurance")
    WELFARE = "welfare", _("Welfare and subsidies")
    JUDICIAL = "judicial", _("Judicial and legal")
    BUSINESS = "business", _("Business and licences")
    TAX = "tax", _("Tax and finance")
    HOUSING = "housing", _("Housing and property")
    TRANSPORT = "transport", _("Transport and vehicles")
    EMPLOYMENT = "employment", _("Work and employment")
    AGRICULTURE = "agriculture", _("Agriculture")
    ENERGY = "energy", _("Energy and utilities")
    CULTURE = "culture", _("Culture and media")
    TRAVEL = "travel", _("Travel and passports")
    OTHER = "other", _("Other")


class LifeEvent(models.TextChoices):
    BIRTH = "birth", _("Having a baby")
    SCHOOL = "school", _("Going to school")
    UNIVERSITY = "university", _("Higher education")
    MILITARY = "military", _("Military service")
    MARRIAGE = "marriage", _("Getting married")
    JOB = "job", _("Finding a job")
    BUSINESS = "business", _("Starting a business")
    HOUSING = "housing", _("Buying or renting a home")
    VEHICLE = "vehicle", _("Owning a vehicle")
    ILLNESS = "illness", _("Illness and care")
    TRAVEL = "travel", _("Travelling abroad")
    RETIREMENT = "retirement", _("Retirement")
    DEATH = "death", _("Death of a family member")


class InputSource(models.TextChoices):
    REGISTRY = "registry", _("Base registry")
    USER = "user", _("Entered by the applicant")
    DOCUMENT = "document", _("Document uploaded by the applicant")


# Data items that base registries hold (NDIM Law base databases). A smart service may never ask
# the applicant to type any of these (Art. 107(h) of the 7th Plan): the exchange fetches them.
REGISTRY_ITEMS: dict[str, tuple[str, str, str]] = {
    # code: (registry, Persian label, English label)
    "civil.identity": (
        "civil",
        "مشخصات هویتی (نام، نام خانوادگی، نام پدر)",
        "Identity particulars",
    ),
    "civil.birth_date": ("civil", "تاریخ تولد", "Date of birth"),
    "civil.photo": ("civil", "تصویر چهره", "Photograph"),
    "civil.household": ("civil", "اعضای خانوار و نسبت خانوادگی", "Household and kinship"),
    "civil.marital_status": ("civil", "وضعیت تأهل", "Marital status"),
    "civil.birth_record": ("civil", "ثبت ولادت", "Birth registration"),
    "civil.death_record": ("civil", "ثبت وفات", "Death registration"),
    "shahkar.mobile_owner": ("shahkar", "تطابق شماره همراه با کد ملی", "Mobile number ownership"),
    "post.address": ("post", "نشانی استاندارد از کد پستی", "Standard address from postcode"),
    "ssaa.company": ("ssaa", "مشخصات شخص حقوقی", "Legal person particulars"),
    "ssaa.deed": ("ssaa", "اصالت سند مالکیت", "Property deed authenticity"),
    "health.birth_record": ("health", "گواهی ولادت بیمارستانی", "Hospital birth record"),
    "science.degree": ("science", "مدرک تحصیلی دانشگاهی", "University degree"),
    "science.student_status": ("science", "وضعیت دانشجویی", "Student status"),
    "education.school_record": ("education", "سوابق تحصیلی مدرسه", "School record"),
    "judiciary.criminal_record": ("judiciary", "سابقه کیفری", "Criminal record"),
    "judiciary.sana_account": ("judiciary", "حساب ثنا (شناسه ثنا)", "SANA account (SANA number)"),
    "martyrs.veteran_status": ("martyrs", "وضعیت ایثارگری", "Veteran status"),
    "relief.beneficiary": ("relief", "وضعیت مددجویی", "Relief beneficiary status"),
    "ssi.insurance_record": ("ssi", "سوابق بیمه", "Social insurance record"),
    "tax.taxpayer_status": ("tax", "وضعیت مودی مالیاتی", "Taxpayer status"),
    "tax.income_bracket": ("tax", "طبقه مالیات بر درآمد", "Income tax band"),
    "tax.clearance": ("tax", "مفاصاحساب مالیاتی", "Tax clearance"),
    "vehicle.owned_vehicles": ("vehicle", "خودروهای به نام شخص", "Vehicles registered to a person"),
    "vehicle.plate": ("vehicle", "مشخصات خودرو، پلاک و مالک", "Vehicle, plate and owner"),
    "vehicle.driving_licence": ("vehicle", "گواهینامه رانندگی", "Driving licence"),
    "insurance.health_coverage": (
        "insurance",
        "پوشش بیمه پایه سلامت",
        "Basic health insurance coverage",
    ),
    "insurance.family_physician": ("insurance", "پزشک خانواده", "Family physician"),
    "welfare.subsidy_decile": ("welfare", "دهک درآمدی خانوار", "Household income decile"),
    "welfare.subsidy_status": (
        "welfare",
        "وضعیت یارانه نقدی و کالابرگ",
        "Cash subsidy and electronic coupon status",
    ),
    "welfare.household_members": ("welfare", "اعضای خانوار رفاهی", "Welfare household members"),
    "vocational.certificates": (
        "vocational",
        "گواهینامه‌های مهارت فنی و حرفه‌ای",
        "Technical and vocational certificates",
    ),
    "location.geo": ("location", "موقعیت جغرافیایی نشانی", "Geographic location of an address"),
    "location.area": (
        "location",
        "محدوده نشانی (شهری یا روستایی، منطقه شهرداری، شناسه ساختمان)",
        "Address area (urban or rural, municipal district, building ID)",
    ),
    "foreign.identity": ("foreign", "مشخصات هویتی اتباع خارجی", "Foreign national's identity"),
    "foreign.residence_permit": (
        "foreign",
        "مدرک اقامت اتباع خارجی",
        "Foreign national's residence permit",
    ),
}

# Items published on the exchange that are not documents a service card could stop asking
# for (not once-only items): only their names, for the exchange's pages and the "who read my
# data" list.
EXCHANGE_ONLY_ITEMS: dict[str, tuple[str, str, str]] = {
    # The registries' life-event feeds (proactive services read them).
    "civil.coming_of_age_events": ("civil", "رویداد رسیدن به ۱۸ سالگی", "Coming-of-age events"),
    "civil.death_events": ("civil", "رویداد فوت", "Death events"),
    "civil.marriage_events": ("civil", "رویداد ثبت ازدواج", "Marriage events"),
    "health.birth_events": ("health", "رویداد تولد", "Birth events"),
    "ssi.retirement_events": ("ssi", "رویداد بازنشستگی", "Retirement events"),
    # The simulated billers.
    "billers.bill": ("billers", "وضعیت و مبلغ قبض", "A bill's status and amount"),
    "billers.payment": (
        "billers",
        "تأیید پرداخت قبض از سوی صادرکننده",
        "The biller's confirmation of a bill paid",
    ),
    # The judiciary's case system (registries/courts.py; panjereh.judiciary reads it).
    "courts.cases": ("courts", "پرونده‌های قضایی شخص", "A person's judicial cases"),
    "courts.case_events": ("courts", "رویدادهای پرونده‌های قضایی", "Case events"),
    "courts.pleading": ("courts", "وصول لایحه و رسید دادگاه", "A bill received by the court"),
    # A judge's asset inquiry (panjereh.assets, registries/assets.py).
    "banks.accounts": ("banks", "حساب‌های بانکی و موجودی", "Bank accounts and balances"),
    "banks.block": ("banks", "مسدودی حساب بانکی", "Blocking on a bank account"),
    "stock.holdings": ("stock", "دارایی سهام", "Securities held"),
    "ssaa.properties": ("ssaa", "املاک ثبت‌شده", "Registered properties"),
    "ssaa.seizure": ("ssaa", "بازداشت ملک", "Seizure of a property"),
    "vehicle.assets": ("vehicle", "خودروها و ارزش آن‌ها", "Vehicles and their values"),
    # The judiciary's Financial Convictions Registry (the transaction-credit check).
    "convictions.financial_status": (
        "convictions",
        "وضعیت محکومیت‌های مالی",
        "Financial-conviction status",
    ),
}
