"""Bill templates (لوایح): the catalogue, the plain questions and the composition of the text.

The judiciary offers about 63 kinds of bill that need no legal knowledge: the person picks the
subject and their case, answers a few plain questions, and gets the legal text, which names the
law it rests on. Each :class:`Template` is data: a code, its number in the judiciary's list
(1–63), a category, the case kinds, stages and party roles it applies to, its questions (each
with a type and its limits), the Persian legal text with ``{placeholders}`` and a version. The
catalogue is checked when this module is imported (:func:`check`): unique codes and numbers,
placeholders that name questions, at most :data:`CAPACITY` templates. Adding one of the rest
is adding a :class:`Template` to :data:`TEMPLATES` (docs/judiciary.md, "Bill templates").

The legal text is Persian, the court's language; titles, questions and hints have English
translations for the English pages. :func:`clean` reads the answers as typed (Persian or
Arabic digits, Jalali dates) and refuses what a court cannot receive (a null character, text
past a field's limit) with a message per field; :func:`compose` writes the bill.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from panjereh.common import jalali
from panjereh.common.persian import normalize, to_latin_digits, to_persian_digits

CAPACITY = 63  # the judiciary's list of bill kinds
MAX_TEXT = 200  # a one-line answer
MAX_LONG = 4000  # a paragraph answer
MAX_BILL = 24_000  # the composed bill, all answers included

# Case kinds and stages as the judiciary's case system names them (registries/courts.py).
KINDS = {
    "civil": ("حقوقی", "Civil"),
    "criminal": ("کیفری", "Criminal"),
    "family": ("خانواده", "Family"),
}
# The phases a template speaks of, and the case-system stages in each.
PHASES = {
    "hearing": ("filed", "investigation", "hearing", "referred", "expert", "trial"),
    "decided": ("decision", "decided", "judgment", "appeal"),
    "enforcement": ("final", "enforcement", "executed"),
}
ROLES = {
    "plaintiff": ("خواهان", "Plaintiff"),
    "defendant": ("خوانده", "Defendant"),
    "complainant": ("شاکی", "Complainant"),
    "accused": ("متهم", "Accused"),
    "other": ("طرف پرونده", "Party"),
}
CATEGORIES = {
    "defence": ("دفاع و اظهار نظر", "Defence and statements"),
    "procedure": ("جریان رسیدگی", "Running of the case"),
    "evidence": ("دلیل و کارشناسی", "Evidence and experts"),
    "urgent": ("اقدامات فوری و تأمینی", "Urgent and protective measures"),
    "costs": ("هزینه و پرداخت", "Costs and payment"),
    "review": ("اعتراض و تجدیدنظر", "Objections and appeals"),
    "enforcement": ("اجرای رأی", "Enforcing a decision"),
    "criminal": ("امور کیفری", "Criminal matters"),
}


@dataclass(frozen=True)
class Choice:
    value: str
    fa: str  # as the bill says it
    en: str
    label_fa: str = ""  # as the question offers it, when not the bill's words
    label_en: str = ""


@dataclass(frozen=True)
class Question:
    """One plain question. ``kind``: text (one line), long (a paragraph), date (Jalali),
    number (whole), amount (rials), choice. ``phrase`` wraps an optional answer in the bill
    (``{value}``); an optional question left empty leaves its placeholder empty."""

    code: str
    kind: str
    label_fa: str
    label_en: str
    hint_fa: str = ""
    hint_en: str = ""
    required: bool = True
    max_length: int = 0
    minimum: int | None = None
    maximum: int | None = None
    when: str = ""  # date: "past" (today or before) or "future" (today or after)
    choices: tuple[Choice, ...] = ()
    phrase: str = ""

    @property
    def limit(self) -> int:
        return self.max_length or (MAX_LONG if self.kind == "long" else MAX_TEXT)

    def label(self) -> str:
        return self.label_fa if _persian() else self.label_en

    def hint(self) -> str:
        return self.hint_fa if _persian() else self.hint_en

    def options(self) -> list[tuple[str, str]]:
        fa = _persian()
        return [
            (c.value, (c.label_fa or c.fa) if fa else (c.label_en or c.en)) for c in self.choices
        ]


@dataclass(frozen=True)
class Template:
    code: str
    number: int
    category: str
    title_fa: str
    title_en: str
    summary_fa: str
    summary_en: str
    basis_fa: str  # the law it rests on, named in the bill
    basis_en: str
    questions: tuple[Question, ...]
    body_fa: str
    kinds: tuple[str, ...] = ()  # () = every kind
    phases: tuple[str, ...] = ()  # () = every stage
    roles: tuple[str, ...] = ()  # () = every party
    version: int = 1

    def title(self) -> str:
        return self.title_fa if _persian() else self.title_en

    def summary(self) -> str:
        return self.summary_fa if _persian() else self.summary_en

    def basis(self) -> str:
        return self.basis_fa if _persian() else self.basis_en

    def category_label(self) -> str:
        fa, en = CATEGORIES[self.category]
        return fa if _persian() else en

    def question(self, code: str) -> Question:
        return next(q for q in self.questions if q.code == code)

    def applies_to(self, kind: str, stage: str, role: str) -> bool:
        """Whether a party in ``role`` of a case of ``kind`` at ``stage`` may use it. A kind or
        stage the catalogue does not know does not hide a template (the court decides)."""
        if self.kinds and kind in KINDS and kind not in self.kinds:
            return False
        phase = phase_of(stage)
        if self.phases and phase and phase not in self.phases:
            return False
        return not (self.roles and role in ROLES and role not in self.roles)


def _persian() -> bool:
    return (get_language() or "fa").startswith("fa")


def phase_of(stage: str) -> str:
    stage = (stage or "").lower()
    return next((phase for phase, stages in PHASES.items() if stage in stages), "")


# -- the catalogue --------------------------------------------------------------------------------

YES = Choice("yes", "بله", "Yes")
PAST = "past"
FUTURE = "future"


def _q(code, kind, fa, en, hint_fa="", hint_en="", **extra) -> Question:
    return Question(code, kind, fa, en, hint_fa, hint_en, **extra)


TEMPLATES: tuple[Template, ...] = (
    Template(
        code="defence",
        number=1,
        category="defence",
        title_fa="لایحه دفاعیه",
        title_en="Statement of defence",
        summary_fa="پاسخ شما به ادعای طرف مقابل، با دلایل و مدارکتان، برای رسیدگی دادگاه.",
        summary_en="Your answer to the other side's claim, with your reasons and evidence.",
        basis_fa=(
            "اصل سی‌وچهارم قانون اساسی (حق دادخواهی و دفاع) و مواد ۸۴ تا ۸۹ قانون آیین دادرسی "
            "دادگاه‌های عمومی و انقلاب در امور مدنی (ایرادات و دفاع خوانده)"
        ),
        basis_en=(
            "Article 34 of the Constitution (the right to go to court and to defend oneself) and "
            "Articles 84–89 of the Civil Procedure Code (the defendant's objections and defence)"
        ),
        questions=(
            _q(
                "claim",
                "long",
                "طرف مقابل چه می‌خواهد یا چه ادعایی علیه شما دارد؟",
                "What does the other side ask for, or accuse you of?",
                "به زبان خودتان و کوتاه بنویسید.",
                "In your own words, briefly.",
            ),
            _q(
                "reasons",
                "long",
                "چرا این ادعا درست نیست؟",
                "Why is the claim not right?",
                "واقعیت‌ها را به ترتیب زمان بنویسید.",
                "Write the facts in the order they happened.",
            ),
            _q(
                "evidence",
                "long",
                "چه دلیل یا مدرکی دارید؟ (اختیاری)",
                "What evidence or documents do you have? (optional)",
                "مثلاً قرارداد، رسید، پیامک یا نام شاهدان.",
                "For example a contract, a receipt, a text message or witnesses' names.",
                required=False,
                phrase="دلایل و مدارک اینجانب عبارت است از: {value}\n",
            ),
            _q(
                "ask",
                "choice",
                "از دادگاه چه می‌خواهید؟",
                "What do you ask the court for?",
                choices=(
                    Choice(
                        "dismiss",
                        "صدور حکم بر بطلان دعوای طرف مقابل",
                        "a judgment dismissing the other side's claim",
                        "رد ادعای طرف مقابل",
                        "Dismiss the other side's claim",
                    ),
                    Choice(
                        "acquit",
                        "صدور حکم برائت اینجانب",
                        "a judgment acquitting me",
                        "برائت من (در پرونده کیفری)",
                        "Acquit me (in a criminal case)",
                    ),
                    Choice(
                        "consider",
                        "رسیدگی دقیق به دلایل اینجانب و صدور رأی شایسته",
                        "a careful hearing of my reasons and a fitting decision",
                        "رسیدگی به دلایل من",
                        "Consider my reasons",
                    ),
                ),
            ),
        ),
        body_fa=(
            "در پاسخ به ادعای طرف مقابل که خلاصه آن چنین است: {claim}\n"
            "به استحضار می‌رساند این ادعا وجاهت قانونی ندارد، به این دلایل:\n{reasons}\n"
            "{evidence}"
            "بنا بر آنچه گذشت، تقاضای {ask} را دارد."
        ),
        phases=("hearing",),
    ),
    Template(
        code="appeal",
        number=2,
        category="review",
        title_fa="درخواست تجدیدنظر از رأی",
        title_en="Appeal against a decision",
        summary_fa="اعتراض به رأی دادگاه نخستین و درخواست رسیدگی دوباره در دادگاه تجدیدنظر.",
        summary_en="Object to the first court's decision and ask the appeal court to review it.",
        basis_fa=(
            "مواد ۳۳۰ تا ۳۴۸ قانون آیین دادرسی مدنی (مهلت بیست‌روزه ماده ۳۳۶ و جهات تجدیدنظر "
            "ماده ۳۴۸) و ماده ۴۳۱ قانون آیین دادرسی کیفری"
        ),
        basis_en=(
            "Articles 330–348 of the Civil Procedure Code (the twenty days of Article 336, the "
            "grounds of Article 348) and Article 431 of the Criminal Procedure Code"
        ),
        questions=(
            _q(
                "decision_date",
                "date",
                "رأی در چه تاریخی به شما ابلاغ شد؟",
                "On what date was the decision served on you?",
                "مثلاً ۱۴۰۵/۰۹/۰۱. مهلت تجدیدنظر معمولاً بیست روز از ابلاغ است.",
                "For example 1405/09/01 (Jalali). An appeal is usually due within 20 days.",
                when=PAST,
            ),
            _q(
                "decision_number",
                "text",
                "شماره دادنامه (اختیاری)",
                "The decision's number (optional)",
                required=False,
                max_length=40,
                phrase=" به شماره {value}",
            ),
            _q(
                "ground",
                "choice",
                "مهم‌ترین ایراد رأی چیست؟",
                "What is the main flaw of the decision?",
                choices=(
                    Choice(
                        "evidence",
                        "عدم اعتبار مستندات و دلایل مورد استناد دادگاه",
                        "the evidence the court relied on is not valid",
                        "دلایلی که دادگاه به آن تکیه کرده معتبر نیست",
                        "The evidence the court relied on is not valid",
                    ),
                    Choice(
                        "law",
                        "مخالف بودن رأی با موازین شرعی یا مقررات قانونی",
                        "the decision is against the law",
                        "رأی خلاف قانون است",
                        "The decision is against the law",
                    ),
                    Choice(
                        "jurisdiction",
                        "عدم صلاحیت دادگاه صادرکننده رأی",
                        "the court had no jurisdiction",
                        "دادگاه صلاحیت رسیدگی نداشت",
                        "The court had no jurisdiction",
                    ),
                    Choice(
                        "omission",
                        "عدم توجه دادگاه به دلایل و دفاعیات اینجانب",
                        "the court did not consider my evidence and defence",
                        "دادگاه به دلایل و دفاع من توجه نکرد",
                        "The court did not consider my evidence and defence",
                    ),
                ),
            ),
            _q(
                "reasons",
                "long",
                "توضیح دهید چرا رأی درست نیست.",
                "Explain why the decision is wrong.",
            ),
        ),
        body_fa=(
            "نسبت به رأی صادره{decision_number} که در تاریخ {decision_date} به اینجانب ابلاغ "
            "شده است، در مهلت قانونی اعتراض دارم. جهت تجدیدنظر: {ground}.\n"
            "توضیح: {reasons}\n"
            "تقاضای نقض رأی معترض‌عنه و رسیدگی مجدد در دادگاه تجدیدنظر را دارد."
        ),
        phases=("decided",),
    ),
    Template(
        code="grace-period",
        number=3,
        category="costs",
        title_fa="درخواست استمهال (مهلت عادله) برای پرداخت",
        title_en="Request for time to pay (a fair grace period)",
        summary_fa="اگر نمی‌توانید بدهی مورد حکم را یکجا بپردازید، مهلت یا پرداخت قسطی بخواهید.",
        summary_en="If you cannot pay the sum at once, ask for time or for instalments.",
        basis_fa="ماده ۲۷۷ قانون مدنی (مهلت عادله یا قرار اقساط به نظر دادگاه)",
        basis_en="Article 277 of the Civil Code (a fair grace period or instalments set by the court)",
        questions=(
            _q(
                "amount",
                "amount",
                "مبلغ بدهی چند ریال است؟",
                "How much is owed, in rials?",
                maximum=10**15,
                minimum=1,
            ),
            _q(
                "months",
                "number",
                "چند ماه مهلت می‌خواهید؟",
                "How many months do you ask for?",
                "عددی از ۱ تا ۶۰.",
                "A number from 1 to 60.",
                minimum=1,
                maximum=60,
            ),
            _q(
                "way",
                "choice",
                "چگونه می‌پردازید؟",
                "How will you pay?",
                choices=(
                    Choice(
                        "instalments",
                        "پرداخت به‌صورت اقساط ماهانه",
                        "in monthly instalments",
                        "قسط ماهانه",
                        "Monthly instalments",
                    ),
                    Choice(
                        "lump",
                        "پرداخت یکجا در پایان مهلت",
                        "at once at the end of the period",
                        "یکجا در پایان مهلت",
                        "All at once at the end",
                    ),
                ),
            ),
            _q(
                "reason",
                "long",
                "چرا اکنون نمی‌توانید بپردازید؟",
                "Why can you not pay now?",
                "درآمد، هزینه‌ها و افراد تحت تکفل خود را بنویسید.",
                "Write your income, your expenses and who depends on you.",
            ),
        ),
        body_fa=(
            "اینجانب به پرداخت مبلغ {amount} ریال متعهد یا محکوم شده‌ام و به این دلیل توان "
            "پرداخت یکجای آن را ندارم: {reason}\n"
            "با استناد به ماده ۲۷۷ قانون مدنی، تقاضای اعطای {months} ماه مهلت و {way} را دارد."
        ),
        roles=("defendant", "accused", "other"),
    ),
    Template(
        code="costs-insolvency",
        number=4,
        category="costs",
        title_fa="درخواست اعسار از پرداخت هزینه دادرسی",
        title_en="Request to be excused court costs for lack of means (insolvency)",
        summary_fa="اگر توان پرداخت هزینه دادرسی را ندارید، رسیدگی بدون پیش‌پرداخت آن را بخواهید.",
        summary_en="If you cannot pay the court costs, ask for the case to go on without them.",
        basis_fa="مواد ۵۰۴ تا ۵۱۴ قانون آیین دادرسی مدنی (اعسار از هزینه دادرسی)",
        basis_en="Articles 504–514 of the Civil Procedure Code (insolvency as to court costs)",
        questions=(
            _q(
                "income",
                "amount",
                "درآمد ماهانه شما چند ریال است؟",
                "What is your monthly income, in rials?",
                "اگر درآمدی ندارید صفر بنویسید.",
                "Write 0 if you have none.",
                minimum=0,
                maximum=10**13,
            ),
            _q(
                "dependants",
                "number",
                "چند نفر تحت تکفل شما هستند؟",
                "How many people depend on you?",
                minimum=0,
                maximum=30,
            ),
            _q(
                "assets",
                "long",
                "چه دارایی‌ای دارید؟",
                "What do you own?",
                "خانه، خودرو، حساب بانکی و… یا بنویسید «دارایی ندارم».",
                "A home, a car, bank accounts… or write that you own nothing.",
            ),
            _q(
                "witnesses",
                "long",
                "نام دو نفر که از وضع مالی شما آگاهند",
                "Two people who know your means",
                "دادگاه گواهی آنان را می‌شنود.",
                "The court hears them as witnesses.",
                max_length=600,
            ),
        ),
        body_fa=(
            "اینجانب به سبب عدم کفایت دارایی توان پرداخت هزینه دادرسی این پرونده را ندارم. درآمد "
            "ماهانه اینجانب {income} ریال است و {dependants} نفر تحت تکفل اینجانب هستند.\n"
            "دارایی: {assets}\n"
            "گواهان آگاه از وضع مالی اینجانب: {witnesses}\n"
            "تقاضای صدور حکم اعسار از پرداخت هزینه دادرسی و ادامه رسیدگی را دارد."
        ),
        kinds=("civil", "family"),
        phases=("hearing", "decided"),
    ),
    Template(
        code="evidence-preservation",
        number=5,
        category="evidence",
        title_fa="درخواست تأمین دلیل",
        title_en="Request to preserve evidence",
        summary_fa="پیش از آنکه دلیل یا وضع موجود از بین برود، از دادگاه بخواهید آن را ثبت کند.",
        summary_en="Ask the court to record evidence or a state of things before it is lost.",
        basis_fa="مواد ۱۴۹ تا ۱۵۵ قانون آیین دادرسی مدنی (تأمین دلیل)",
        basis_en="Articles 149–155 of the Civil Procedure Code (preservation of evidence)",
        questions=(
            _q(
                "what",
                "long",
                "چه چیزی باید ثبت شود؟",
                "What must be recorded?",
                "مثلاً ترک دیوار، خرابی کالا، یا گفته شاهدی که قصد سفر دارد.",
                "For example a cracked wall, damaged goods, or a witness about to travel.",
            ),
            _q(
                "where",
                "text",
                "کجا؟",
                "Where?",
                "نشانی محل یا مال.",
                "The address of the place or the property.",
            ),
            _q(
                "urgency",
                "long",
                "چرا ممکن است از بین برود؟",
                "Why might it be lost?",
            ),
            _q(
                "method",
                "choice",
                "دادگاه چگونه آن را ثبت کند؟",
                "How should the court record it?",
                choices=(
                    Choice(
                        "inspection",
                        "معاینه محل",
                        "an inspection of the place",
                        "بازدید از محل",
                        "Inspect the place",
                    ),
                    Choice(
                        "expert",
                        "ارجاع به کارشناس",
                        "referral to an expert",
                        "نظر کارشناس",
                        "An expert's report",
                    ),
                    Choice(
                        "witnesses",
                        "استماع شهادت شهود",
                        "hearing the witnesses",
                        "شنیدن گواهی شاهدان",
                        "Hear the witnesses",
                    ),
                ),
            ),
        ),
        body_fa=(
            "با توجه به احتمال از بین رفتن دلیل، تقاضای تأمین دلیل به شرح زیر را دارد:\n"
            "موضوع: {what}\nمحل: {where}\n"
            "علت فوریت: {urgency}\n"
            "روش درخواستی: {method}، و تنظیم صورت‌مجلس آن برای استناد در رسیدگی."
        ),
    ),
    Template(
        code="interim-order",
        number=6,
        category="urgent",
        title_fa="درخواست دستور موقت",
        title_en="Request for an interim order",
        summary_fa="در کاری که فوری است، از دادگاه بخواهید تا پایان رسیدگی چیزی انجام یا متوقف شود.",
        summary_en="In an urgent matter, ask the court to have something done or stopped until it decides.",
        basis_fa="مواد ۳۱۰ تا ۳۲۵ قانون آیین دادرسی مدنی (دادرسی فوری و دستور موقت)",
        basis_en="Articles 310–325 of the Civil Procedure Code (urgent proceedings and interim orders)",
        questions=(
            _q(
                "order",
                "long",
                "چه کاری باید انجام شود یا متوقف شود؟",
                "What must be done or stopped?",
                "مثلاً توقف ساخت‌وساز، منع نقل و انتقال ملک، یا توقیف کالا.",
                "For example stopping building work, barring a property's sale, or holding goods.",
            ),
            _q(
                "urgency",
                "long",
                "چرا نمی‌توان تا پایان رسیدگی صبر کرد؟",
                "Why can it not wait until the court decides?",
            ),
            _q(
                "security",
                "choice",
                "آیا آماده‌اید تأمینی را که دادگاه برای خسارت احتمالی تعیین می‌کند بسپارید؟",
                "Will you deposit the security the court sets for possible damage?",
                "دادگاه معمولاً پیش از صدور دستور موقت تأمین می‌خواهد (ماده ۳۱۹).",
                "The court usually asks for security before it orders (Article 319).",
                choices=(
                    Choice(
                        "yes",
                        "اینجانب آمادگی سپردن تأمین مناسب را دارم",
                        "I am ready to deposit suitable security",
                        "بله، آماده‌ام",
                        "Yes, I am ready",
                    ),
                    Choice(
                        "ask",
                        "تقاضای معافیت از سپردن تأمین یا تعیین تأمین متناسب با توان اینجانب را دارم",
                        "I ask to be excused security or for one I can afford",
                        "معافیت یا تأمین کمتر می‌خواهم",
                        "I ask to be excused or for less",
                    ),
                ),
            ),
        ),
        body_fa=(
            "با توجه به فوریت امر، تقاضای صدور دستور موقت به این شرح را دارد: {order}\n"
            "جهت فوریت: {urgency}\n"
            "{security}."
        ),
        kinds=("civil", "family"),
    ),
    Template(
        code="expert-objection",
        number=7,
        category="evidence",
        title_fa="لایحه اعتراض به نظریه کارشناس",
        title_en="Objection to an expert's report",
        summary_fa="اگر نظر کارشناس را درست نمی‌دانید، ظرف یک هفته از ابلاغ اعتراض کنید.",
        summary_en="Object to an expert's report within a week of being served with it.",
        basis_fa=(
            "ماده ۲۶۰ قانون آیین دادرسی مدنی (اعتراض ظرف یک هفته از ابلاغ) و ماده ۲۶۵ همان "
            "قانون (عدم تطبیق نظر کارشناس با اوضاع و احوال)"
        ),
        basis_en=(
            "Article 260 of the Civil Procedure Code (objections within a week of service) and "
            "Article 265 (a report that does not fit the facts)"
        ),
        questions=(
            _q(
                "served_on",
                "date",
                "نظر کارشناس در چه تاریخی به شما ابلاغ شد؟",
                "On what date were you served with the report?",
                "مثلاً ۱۴۰۵/۰۹/۱۰.",
                "For example 1405/09/10 (Jalali).",
                when=PAST,
            ),
            _q(
                "objections",
                "long",
                "چه ایرادی به نظر کارشناس دارید؟",
                "What is wrong with the report?",
                "مثلاً مبلغ برآورد، محاسبه یا توجه نکردن به مدرکی.",
                "For example the sum estimated, a calculation, or a document left out.",
            ),
            _q(
                "ask",
                "choice",
                "از دادگاه چه می‌خواهید؟",
                "What do you ask the court for?",
                choices=(
                    Choice(
                        "board",
                        "ارجاع موضوع به هیئت کارشناسی سه‌نفره",
                        "referral to a board of three experts",
                        "بررسی دوباره با سه کارشناس",
                        "A new report by three experts",
                    ),
                    Choice(
                        "explain",
                        "دعوت از کارشناس برای ادای توضیح",
                        "calling the expert to explain",
                        "توضیح کارشناس",
                        "The expert to explain",
                    ),
                    Choice(
                        "disregard",
                        "عدم ترتیب اثر به نظریه کارشناس به سبب عدم تطبیق با اوضاع و احوال مسلم قضیه",
                        "setting the report aside as it does not fit the facts",
                        "کنار گذاشتن نظر کارشناس",
                        "Set the report aside",
                    ),
                ),
            ),
        ),
        body_fa=(
            "نسبت به نظریه کارشناس که در تاریخ {served_on} به اینجانب ابلاغ شده است، در مهلت "
            "یک‌هفته‌ای اعتراض دارم، به این شرح:\n{objections}\n"
            "تقاضای {ask} را دارد."
        ),
        phases=("hearing",),
    ),
    Template(
        code="copy-request",
        number=8,
        category="procedure",
        title_fa="درخواست رونوشت یا تصویر اوراق پرونده",
        title_en="Request for copies of the case papers",
        summary_fa="رونوشت رأی، صورت‌جلسه، نظر کارشناس یا همه اوراق پرونده را بخواهید.",
        summary_en="Ask for a copy of the decision, the minutes, an expert report or the whole file.",
        basis_fa=(
            "حق اصحاب دعوا بر دسترسی به اوراق پرونده و دریافت رونوشت آن با پرداخت هزینه قانونی "
            "(قانون وصول برخی از درآمدهای دولت و مصرف آن در موارد معین)"
        ),
        basis_en=(
            "The parties' right to the case papers and to copies of them for the legal fee (the "
            "Act on Collecting Certain Government Revenues)"
        ),
        questions=(
            _q(
                "papers",
                "choice",
                "رونوشت چه چیزی را می‌خواهید؟",
                "A copy of what?",
                choices=(
                    Choice("decision", "دادنامه (رأی)", "the decision"),
                    Choice("minutes", "صورت‌جلسه‌های دادرسی", "the hearing minutes"),
                    Choice("expert", "نظریه کارشناس", "the expert report"),
                    Choice("file", "همه اوراق پرونده", "the whole file"),
                ),
            ),
            _q(
                "detail",
                "text",
                "توضیح (اختیاری)",
                "Details (optional)",
                "مثلاً شماره برگ‌ها یا تاریخ جلسه.",
                "For example page numbers or a hearing date.",
                required=False,
                phrase=" ({value})",
            ),
            _q(
                "certified",
                "choice",
                "رونوشت گواهی‌شده (مصدق) لازم دارید؟",
                "Do you need a certified copy?",
                choices=(
                    Choice("yes", "به‌صورت مصدق", "certified", "بله، مصدق", "Yes, certified"),
                    Choice("no", "به‌صورت ساده", "plain", "نه، ساده کافی است", "No, a plain copy"),
                ),
            ),
        ),
        body_fa=(
            "تقاضای صدور رونوشت {papers}{detail} {certified} را دارد و هزینه قانونی آن را می‌پردازم."
        ),
    ),
    Template(
        code="hearing-change",
        number=9,
        category="procedure",
        title_fa="درخواست تغییر وقت رسیدگی",
        title_en="Request to move a hearing",
        summary_fa="اگر عذر موجهی برای حاضر نشدن در جلسه دارید، وقت دیگری بخواهید.",
        summary_en="If you have a valid reason not to attend a hearing, ask for another date.",
        basis_fa=(
            "عذرهای موجه قانون آیین دادرسی مدنی (تبصره ماده ۳۰۶: بیماری مانع حرکت، فوت بستگان، "
            "حوادث قهری، توقیف یا حبس)؛ تغییر وقت به نظر دادگاه"
        ),
        basis_en=(
            "The valid excuses of the Civil Procedure Code (note to Article 306: an illness that "
            "prevents moving, a relative's death, force majeure, detention); the court decides"
        ),
        questions=(
            _q(
                "hearing_date",
                "date",
                "جلسه در چه تاریخی است؟",
                "What is the hearing's date?",
                "مثلاً ۱۴۰۵/۱۰/۰۵.",
                "For example 1405/10/05 (Jalali).",
                when=FUTURE,
            ),
            _q(
                "excuse",
                "choice",
                "عذر شما چیست؟",
                "What is your reason?",
                choices=(
                    Choice(
                        "illness",
                        "بیماری مانع از حرکت",
                        "an illness that prevents me from moving",
                        "بیماری",
                        "Illness",
                    ),
                    Choice(
                        "death",
                        "فوت یکی از بستگان نزدیک",
                        "the death of a close relative",
                        "فوت یکی از نزدیکان",
                        "A close relative's death",
                    ),
                    Choice(
                        "force",
                        "حادثه قهری",
                        "force majeure",
                        "حادثه (سیل، زلزله، تصادف…)",
                        "An accident or disaster",
                    ),
                    Choice("detention", "توقیف یا حبس", "detention", "بازداشت", "Detention"),
                    Choice(
                        "other",
                        "عذر دیگر به شرح زیر",
                        "another reason, below",
                        "دلیل دیگر",
                        "Another reason",
                    ),
                ),
            ),
            _q(
                "detail",
                "long",
                "توضیح دهید و بگویید چه مدرکی دارید.",
                "Explain, and say what proof you have.",
                "مثلاً گواهی پزشک.",
                "For example a doctor's certificate.",
                max_length=1500,
            ),
        ),
        body_fa=(
            "به استحضار می‌رساند اینجانب به سبب {excuse} قادر به حضور در جلسه رسیدگی مورخ "
            "{hearing_date} نیستم. توضیح: {detail}\n"
            "تقاضای تجدید وقت رسیدگی و ابلاغ وقت جدید را دارد."
        ),
        phases=("hearing",),
    ),
    Template(
        code="withdraw-claim",
        number=10,
        category="procedure",
        title_fa="درخواست استرداد دادخواست یا دعوا",
        title_en="Withdrawing a petition or claim",
        summary_fa="اگر نمی‌خواهید دعوای خود را ادامه دهید، آن را پس بگیرید.",
        summary_en="Withdraw your claim if you no longer want to pursue it.",
        basis_fa="ماده ۱۰۷ قانون آیین دادرسی مدنی (استرداد دادخواست و دعوا)",
        basis_en="Article 107 of the Civil Procedure Code (withdrawing a petition or a claim)",
        questions=(
            _q(
                "scope",
                "choice",
                "پرونده در چه وضعی است و چه چیزی را پس می‌گیرید؟",
                "Where is the case, and what do you withdraw?",
                "پیامد هر گزینه فرق دارد: پس از پایان نخستین جلسه، دعوا را تنها با رضایت طرف "
                "مقابل یا با صرف‌نظر کامل می‌توان پس گرفت.",
                "Each choice has its own effect: after the first hearing a claim can be "
                "withdrawn only with the other side's consent or by giving it up for good.",
                choices=(
                    Choice(
                        "petition",
                        "استرداد دادخواست پیش از نخستین جلسه دادرسی (بند الف ماده ۱۰۷)",
                        "withdrawing the petition before the first hearing (Art. 107(a))",
                        "دادخواست را پیش از نخستین جلسه پس می‌گیرم",
                        "The petition, before the first hearing",
                    ),
                    Choice(
                        "claim",
                        "استرداد دعوا تا پایان نخستین جلسه دادرسی (بند ب ماده ۱۰۷)",
                        "withdrawing the claim by the end of the first hearing (Art. 107(b))",
                        "دعوا را تا پایان نخستین جلسه پس می‌گیرم",
                        "The claim, by the end of the first hearing",
                    ),
                    Choice(
                        "consent",
                        "استرداد دعوا با رضایت خوانده (بند ج ماده ۱۰۷)",
                        "withdrawing the claim with the defendant's consent (Art. 107(c))",
                        "دعوا را با رضایت طرف مقابل پس می‌گیرم",
                        "The claim, with the other side's consent",
                    ),
                    Choice(
                        "waive",
                        "صرف‌نظر کلی از دعوا (بند ج ماده ۱۰۷)",
                        "giving up the claim for good (Art. 107(c))",
                        "از دعوا به‌کلی صرف‌نظر می‌کنم",
                        "Give up the claim for good",
                    ),
                ),
            ),
            _q(
                "reason",
                "long",
                "دلیل (اختیاری)",
                "Reason (optional)",
                required=False,
                max_length=1500,
                phrase="علت: {value}\n",
            ),
        ),
        body_fa=(
            "اینجانب خواهان پرونده فوق، به این شرح اقدام می‌کنم: {scope}.\n"
            "{reason}"
            "تقاضای صدور قرار مقتضی را دارد."
        ),
        kinds=("civil", "family"),
        phases=("hearing",),
        roles=("plaintiff",),
    ),
    Template(
        code="order-objection",
        number=11,
        category="review",
        title_fa="اعتراض به قرار",
        title_en="Objection to an order (qarar)",
        summary_fa="به قراری که دادگاه یا دادسرا صادر کرده است اعتراض کنید.",
        summary_en="Object to an order (qarar) of the court or the prosecutor's office.",
        basis_fa=(
            "ماده ۳۳۲ قانون آیین دادرسی مدنی (قرارهای قابل تجدیدنظر) و مواد ۲۷۰ و ۲۷۱ قانون "
            "آیین دادرسی کیفری (قرارهای قابل اعتراض و مهلت ده‌روزه)"
        ),
        basis_en=(
            "Article 332 of the Civil Procedure Code (orders open to appeal) and Articles 270–271 "
            "of the Criminal Procedure Code (orders open to objection, ten days)"
        ),
        questions=(
            _q(
                "order",
                "choice",
                "به کدام قرار اعتراض دارید؟",
                "Which order do you object to?",
                choices=(
                    Choice(
                        "dismissal",
                        "قرار رد یا ابطال دادخواست",
                        "the order striking out the petition",
                        "رد یا ابطال دادخواست",
                        "Petition struck out",
                    ),
                    Choice(
                        "inadmissible",
                        "قرار رد دعوا یا عدم استماع دعوا",
                        "the order rejecting the claim as inadmissible",
                        "رد دعوا یا عدم استماع",
                        "Claim rejected as inadmissible",
                    ),
                    Choice(
                        "no-prosecution",
                        "قرار منع یا موقوفی تعقیب",
                        "the order not to prosecute or ending prosecution",
                        "منع یا موقوفی تعقیب",
                        "No prosecution",
                    ),
                    Choice(
                        "detention",
                        "قرار بازداشت موقت",
                        "the order of detention on remand",
                        "بازداشت موقت",
                        "Detention on remand",
                    ),
                    Choice(
                        "bail",
                        "قرار تأمین کیفری (کفالت یا وثیقه)",
                        "the bail order (surety or deposit)",
                        "کفالت یا وثیقه",
                        "Bail (surety or deposit)",
                    ),
                ),
            ),
            _q(
                "served_on",
                "date",
                "قرار در چه تاریخی به شما ابلاغ شد؟",
                "On what date were you served with the order?",
                when=PAST,
            ),
            _q("reasons", "long", "چرا قرار درست نیست؟", "Why is the order wrong?"),
        ),
        body_fa=(
            "نسبت به {order} که در تاریخ {served_on} به اینجانب ابلاغ شده است، در مهلت قانونی "
            "اعتراض دارم، به این دلایل:\n{reasons}\n"
            "تقاضای نقض قرار و رسیدگی مقتضی را دارد."
        ),
    ),
    Template(
        code="enforcement",
        number=12,
        category="enforcement",
        title_fa="درخواست اجرای حکم (صدور اجراییه)",
        title_en="Request to enforce a judgment (writ of execution)",
        summary_fa="اگر حکم به نفع شما قطعی شده و اجرا نشده است، اجرای آن را بخواهید.",
        summary_en="If a judgment in your favour is final and not carried out, ask for it to be enforced.",
        basis_fa="مواد ۱، ۲ و ۴ قانون اجرای احکام مدنی (قطعیت و ابلاغ حکم، تقاضای کتبی، اجراییه)",
        basis_en=(
            "Articles 1, 2 and 4 of the Civil Judgments Enforcement Act (a final, served judgment, "
            "a written request, the writ)"
        ),
        questions=(
            _q(
                "decision_number",
                "text",
                "شماره دادنامه",
                "The decision's number",
                max_length=40,
            ),
            _q(
                "decision_date",
                "date",
                "تاریخ دادنامه",
                "The decision's date",
                when=PAST,
            ),
            _q(
                "status",
                "choice",
                "حکم چه وضعی دارد؟",
                "What is the judgment's status?",
                choices=(
                    Choice(
                        "final",
                        "قطعی شده و به محکوم‌علیه ابلاغ شده است",
                        "final and served on the other side",
                        "قطعی و ابلاغ‌شده",
                        "Final and served",
                    ),
                    Choice(
                        "provisional",
                        "قرار اجرای موقت آن صادر شده است",
                        "its provisional enforcement has been ordered",
                        "قرار اجرای موقت دارد",
                        "Provisional enforcement ordered",
                    ),
                ),
            ),
            _q(
                "subject",
                "long",
                "حکم چه چیزی را مقرر کرده است؟",
                "What does the judgment order?",
                "مثلاً پرداخت مبلغ، تحویل مال یا تخلیه.",
                "For example paying a sum, handing over property or vacating.",
                max_length=1500,
            ),
            _q(
                "property",
                "long",
                "از اموال طرف مقابل چه می‌دانید؟ (اختیاری)",
                "What do you know of the other side's property? (optional)",
                required=False,
                max_length=1500,
                phrase="اموال شناخته‌شده محکوم‌علیه: {value}\n",
            ),
        ),
        body_fa=(
            "دادنامه شماره {decision_number} مورخ {decision_date} {status}. موضوع محکوم‌به: "
            "{subject}\n"
            "{property}"
            "تقاضای صدور اجراییه و اجرای حکم را دارد."
        ),
        phases=("decided", "enforcement"),
        roles=("plaintiff", "complainant"),
    ),
    Template(
        code="claim-attachment",
        number=13,
        category="urgent",
        title_fa="درخواست تأمین خواسته",
        title_en="Request to secure the claim (attachment)",
        summary_fa="از دادگاه بخواهید پیش از رأی، به اندازه خواسته از مال طرف مقابل توقیف کند.",
        summary_en="Ask the court to attach the other side's property up to the claim before it decides.",
        basis_fa="ماده ۱۰۸ قانون آیین دادرسی مدنی (موارد تأمین خواسته) و ماده ۱۲۰ آن (خسارت احتمالی)",
        basis_en="Article 108 of the Civil Procedure Code (when a claim is secured) and Article 120 (security for damage)",
        questions=(
            _q(
                "amount",
                "amount",
                "خواسته شما چند ریال است؟",
                "How much is your claim, in rials?",
                minimum=1,
                maximum=10**15,
            ),
            _q(
                "ground",
                "choice",
                "به چه دلیل تأمین می‌خواهید؟",
                "On what ground?",
                choices=(
                    Choice(
                        "official",
                        "دعوا مستند به سند رسمی است (بند الف)",
                        "the claim rests on an official deed (a)",
                        "سند رسمی دارم",
                        "I hold an official deed",
                    ),
                    Choice(
                        "risk",
                        "خواسته در معرض تضییع یا تفریط است (بند ب)",
                        "the claim is at risk of being lost (b)",
                        "ممکن است مال از بین برود یا منتقل شود",
                        "The property may be lost or moved",
                    ),
                    Choice(
                        "protested",
                        "اوراق تجاری واخواست‌شده است (بند ج)",
                        "protested commercial paper (c)",
                        "چک یا سفته واخواست‌شده",
                        "A protested cheque or note",
                    ),
                    Choice(
                        "deposit",
                        "خسارت احتمالی را به صندوق دادگستری می‌سپارم (بند د)",
                        "I deposit the security for possible damage (d)",
                        "خسارت احتمالی را می‌سپارم",
                        "I will deposit the security",
                    ),
                ),
            ),
            _q(
                "property",
                "long",
                "از اموال طرف مقابل چه می‌دانید؟ (اختیاری)",
                "What do you know of the other side's property? (optional)",
                required=False,
                max_length=1500,
                phrase="اموال معرفی‌شده: {value}\n",
            ),
        ),
        body_fa=(
            "با استناد به ماده ۱۰۸ قانون آیین دادرسی مدنی، چون {ground}، تقاضای صدور قرار "
            "تأمین خواسته به میزان {amount} ریال و توقیف معادل آن از اموال طرف مقابل را دارد.\n"
            "{property}"
        ),
        kinds=("civil", "family"),
        phases=("hearing", "decided"),
        roles=("plaintiff",),
    ),
    Template(
        code="forgiveness",
        number=14,
        category="criminal",
        title_fa="اعلام گذشت شاکی",
        title_en="The complainant's forgiveness (withdrawal of the complaint)",
        summary_fa="شاکی اعلام می‌کند از شکایت خود گذشت کرده است.",
        summary_en="The complainant declares that they forgive and drop the complaint.",
        basis_fa="ماده ۱۰۰ قانون مجازات اسلامی (جرایم قابل گذشت) و ماده ۱۳ قانون آیین دادرسی کیفری",
        basis_en=(
            "Article 100 of the Islamic Penal Code (offences that forgiveness ends) and Article 13 "
            "of the Criminal Procedure Code"
        ),
        questions=(
            _q(
                "scope",
                "choice",
                "گذشت شما چگونه است؟",
                "How do you forgive?",
                "گذشتی که اعلام شد، معمولاً پس گرفتنی نیست.",
                "A forgiveness once declared usually cannot be taken back.",
                choices=(
                    Choice(
                        "full", "بی‌قید و شرط", "unconditionally", "بی‌قید و شرط", "Unconditionally"
                    ),
                    Choice(
                        "conditional",
                        "مشروط به شرح زیر",
                        "on the condition below",
                        "با شرط",
                        "On a condition",
                    ),
                ),
            ),
            _q(
                "condition",
                "text",
                "شرط (اگر گذشت شما مشروط است)",
                "The condition (if any)",
                required=False,
                max_length=300,
                phrase="شرط گذشت: {value}\n",
            ),
            _q(
                "understood",
                "choice",
                "می‌دانم گذشت من ممکن است به توقف تعقیب یا اجرای مجازات بینجامد.",
                "I understand my forgiveness may end the prosecution or the sentence.",
                choices=(YES,),
            ),
        ),
        body_fa=(
            "اینجانب شاکی پرونده فوق، {scope} از شکایت خود گذشت می‌کنم.\n"
            "{condition}"
            "آگاهم که این گذشت ممکن است موجب موقوفی تعقیب یا اجرای مجازات شود."
        ),
        kinds=("criminal",),
        roles=("complainant",),
    ),
)

BY_CODE: dict[str, Template] = {t.code: t for t in TEMPLATES}
KIND_NAMES = ("text", "long", "date", "number", "amount", "choice")
CODE_RE = re.compile(r"[a-z][a-z0-9-]{1,58}")


def check(templates: tuple[Template, ...] = TEMPLATES) -> None:
    """Raise ValueError for a catalogue that cannot work: run at import, so a bad template
    stops the window from starting rather than a person's bill from composing."""
    if len(templates) > CAPACITY:
        raise ValueError(f"{len(templates)} templates: the catalogue holds {CAPACITY}")
    codes, numbers = set(), set()
    for t in templates:
        if not CODE_RE.fullmatch(t.code) or t.code in codes:
            raise ValueError(f"template code {t.code!r} malformed or repeated")
        if not 1 <= t.number <= CAPACITY or t.number in numbers:
            raise ValueError(f"template {t.code}: number {t.number} outside 1-63 or repeated")
        codes.add(t.code)
        numbers.add(t.number)
        if t.category not in CATEGORIES or not set(t.kinds) <= set(KINDS):
            raise ValueError(f"template {t.code}: unknown category or kind")
        if not set(t.phases) <= set(PHASES) or not set(t.roles) <= set(ROLES):
            raise ValueError(f"template {t.code}: unknown stage or role")
        asked = [q.code for q in t.questions]
        used = [name for _t, name, _f, _c in string.Formatter().parse(t.body_fa) if name]
        # Every answer is in the text, but an acknowledgement (a choice of one: "I understand").
        unsaid = {q.code for q in t.questions if q.code not in used and len(q.choices) != 1}
        if not set(used) <= set(asked) or unsaid or len(set(asked)) != len(asked):
            raise ValueError(f"template {t.code}: placeholders {used} do not match {asked}")
        for q in t.questions:
            if q.kind not in KIND_NAMES or (q.kind == "choice") != bool(q.choices):
                raise ValueError(f"template {t.code}: question {q.code} malformed")
            if not q.required and "{value}" not in q.phrase:
                raise ValueError(f"template {t.code}: optional {q.code} needs a phrase")


check()


def get(code: str) -> Template | None:
    return BY_CODE.get(code)


def available(kind: str, stage: str, role: str) -> list[Template]:
    return [t for t in TEMPLATES if t.applies_to(kind, stage, role)]


# -- reading the answers ------------------------------------------------------------------------

CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DIGITS_RE = re.compile(r"[0-9]+")


class Invalid(ValueError):
    """Answers refused: ``errors`` maps a question's code to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _text(raw: Any, question: Question) -> tuple[str, str]:
    """The answer as text and a message when it cannot be used."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        return "", _("Answer in words.")
    if "\x00" in raw or CONTROL_RE.search(raw):
        return "", _(
            "This answer contains a character that is not allowed (a null or control character)."
        )
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        return "", _("This answer contains a character that is not allowed.")
    if len(raw) > question.limit * 2:  # refused unread: nothing past the limit is looked at
        return "", _("Write at most %(n)s characters.") % {"n": _count(question.limit)}
    value = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if question.kind != "long":
        value = " ".join(value.split())
    else:
        value = "\n".join(line.rstrip() for line in value.split("\n"))
        value = re.sub(r"\n{3,}", "\n\n", value)
    if len(value) > question.limit:
        return "", _("Write at most %(n)s characters.") % {"n": _count(question.limit)}
    return value, ""


def _count(n: int) -> str:
    return to_persian_digits(n) if _persian() else str(n)


def _whole(value: str) -> int | None:
    latin = to_latin_digits(value).replace(",", "").replace("٬", "").replace("،", "")
    latin = latin.replace(" ", "").replace("_", "")
    return int(latin) if latin.isdigit() and len(latin) <= 18 else None


def clean(
    template: Template, raw: dict[str, Any], *, today: dt.date | None = None
) -> dict[str, str]:
    """The answers kept (strings; digits Latin, dates ``YYYY/MM/DD`` Jalali), or
    :class:`Invalid` with a message per question, in the page's language."""
    today_j = jalali.from_gregorian(today or timezone.localdate())
    answers: dict[str, str] = {}
    errors: dict[str, str] = {}
    for q in template.questions:
        value, error = _text(raw.get(q.code), q)
        if error:
            errors[q.code] = error
            continue
        if not value:
            if q.required:
                errors[q.code] = (
                    _("Choose an answer.") if q.kind == "choice" else _("Answer this question.")
                )
            else:
                answers[q.code] = ""
            continue
        if q.kind == "choice":
            if value not in {c.value for c in q.choices}:
                errors[q.code] = _("Choose one of the answers offered.")
                continue
        elif q.kind in ("number", "amount"):
            number = _whole(value)
            if number is None:
                errors[q.code] = _("Write a whole number, in digits.")
                continue
            if q.minimum is not None and number < q.minimum:
                errors[q.code] = _("Write a number of at least %(n)s.") % {"n": _count(q.minimum)}
                continue
            if q.maximum is not None and number > q.maximum:
                errors[q.code] = _("Write a number of at most %(n)s.") % {"n": _count(q.maximum)}
                continue
            value = str(number)
        elif q.kind == "date":
            try:
                day = jalali.parse(value)
            except jalali.InvalidJalaliDate:
                errors[q.code] = _(
                    "Write a real Jalali date as year/month/day, for example 1405/09/16."
                )
                continue
            if q.when == PAST and day > today_j:
                errors[q.code] = _("This date cannot be in the future.")
                continue
            if q.when == FUTURE and day < today_j:
                errors[q.code] = _("This date cannot be in the past.")
                continue
            if day.year < 1300:
                errors[q.code] = _("Write a date after 1300.")
                continue
            value = f"{day.year:04d}/{day.month:02d}/{day.day:02d}"
        elif len(normalize(value)) < 2 or not any(ch.isalnum() for ch in value):
            errors[q.code] = _("Write a few words.")
            continue
        answers[q.code] = value
    if errors:
        raise Invalid(errors)
    return answers


# -- the bill --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parties:
    """Who files the bill, in which case: what the heading says."""

    name: str
    national_code: str
    role: str
    case_number: str
    court: str
    branch: str
    extra: dict[str, str] = field(default_factory=dict)


def _value_fa(q: Question, value: str) -> str:
    if not value:
        return ""
    if q.kind == "choice":
        value = next(c.fa for c in q.choices if c.value == value)
    elif q.kind == "amount":
        value = f"{int(value):,}".replace(",", "٬")
    return q.phrase.replace("{value}", value) if q.phrase else value


def compose(template: Template, answers: dict[str, str], parties: Parties, on: dt.date) -> str:
    """The bill's Persian text: the heading (court, case, who files), the body with the answers,
    the legal basis, the date. Digits are Persian, as on the court's paper."""
    role_fa = ROLES.get(parties.role, ROLES["other"])[0]
    values = {q.code: _value_fa(q, answers.get(q.code, "")) for q in template.questions}
    body = template.body_fa.format_map(values)
    branch = parties.branch.strip()
    if branch and not branch.startswith("شعبه"):
        branch = f"شعبه {branch}"
    court = parties.court + (f"، {branch}" if branch else "")
    lines = [
        "بسمه تعالی",
        f"ریاست محترم {court}",
        f"موضوع: {template.title_fa}",
        f"شماره پرونده: {parties.case_number}",
        "با سلام و احترام،",
        f"اینجانب {parties.name}، به شماره ملی {parties.national_code}، {role_fa} پرونده فوق:",
        body.strip(),
        f"مستند قانونی: {template.basis_fa}.",
        f"با تشکر — {parties.name}",
        f"تاریخ: {jalali.format_fa(on)}",
    ]
    return to_persian_digits("\n".join(lines))
