"""SANA (سامانه ثنا): registering for judicial e-services without a visit, and the judiciary's
notices through the official mailbox (docs/judiciary.md, "SANA and judicial notices").

:func:`register` is the one write. It checks who asks (a person signed in as themself: not a
helper acting for them, not a company profile, not staff without a national code), then the
window's identity: the assurance level the window holds for the person (at least
``PANJEREH_JUDICIARY_SANA_ASSURANCE``, default 2), then, through the exchange, the civil
registry (the person is on record with this birth date, alive) and Shahkar (the mobile number
is in the person's name), reusing ``identity.registry_checks``. Only then is the judiciary
asked, through the exchange as well (its data services ``sana-account``, then
``sana-register``, the person's national code as ``X-Road-UserId`` so each call shows in "who
read my data"). The judiciary's answer is stored as a :class:`~.models.SanaAccount` in one
transaction; nothing is stored before every answer is in, so a failure anywhere leaves nothing
half-done and the person can try again (the judiciary answers the same SANA number to the same
person, so a retry after a lost answer links the account it opened).

:func:`join_mailbox` makes the judiciary's notice system an exchange member system, so its
courts can send notices through ``/api/mailbox/v1/`` (docs/mailbox.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency
from panjereh.common.conf import Section

from .models import SanaAccount

log = logging.getLogger(__name__)

SECTION = Section("PANJEREH_JUDICIARY_", {"SANA_ASSURANCE": 2})

SUBSYSTEM = "judiciary-registry"
# (registry subsystem, service code, data items the window asks for)
REGISTER = (SUBSYSTEM, "sana-register", ["judiciary.sana_account"])
ACCOUNT = (SUBSYSTEM, "sana-account", ["judiciary.sana_account"])
SERVICES = [REGISTER, ACCOUNT]
# The window's own service in the catalogue, named as the purpose of the calls.
PURPOSE_TITLE_FA = "ثبت‌نام در سامانه ثنا در پنجره ملی"
PURPOSE_TITLE_EN = "SANA registration at the national window"
# The judiciary's system that sends notices through the official mailbox.
NOTICE_SUBSYSTEM = "court-notices"


class SanaRefused(Exception):
    """Registration refused for a reason the person can act on; nothing was stored.

    ``code``: ``assurance``, ``mobile``, ``no_mobile``, ``civil``, ``no_birth_date``,
    ``judiciary``; ``action`` (url, label) says what to do when there is something to do."""

    def __init__(self, code: str, message, action: tuple[str, Any] | None = None) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.action = action


class SanaUnavailable(Exception):
    """The exchange, a registry or the judiciary gave no usable answer; nothing was stored."""


def required_level() -> int:
    return int(SECTION.get("SANA_ASSURANCE"))


def unavailable_message():
    return _(
        "The judiciary or the registries cannot be reached now. Nothing was registered; try "
        "again in a few minutes."
    )


# -- who may ---------------------------------------------------------------------------------


def check_actor(actor, *, delegation=None, company=None) -> None:
    """A person registers only themself: refuses a helper acting under a delegation, a company
    profile and an account without a national code (staff)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise roles.NotPermitted(_("Sign in to register for SANA."))
    if delegation is not None:
        raise roles.NotPermitted(
            _("A helper cannot register someone for SANA: the person must do it themself.")
        )
    if company is not None:
        raise roles.NotPermitted(
            _("SANA is for people. Switch back to your own profile to register.")
        )
    if not getattr(actor, "national_code", ""):
        raise roles.NotPermitted(_("Only a person signed in with a national code has SANA."))


def account_of(user) -> SanaAccount | None:
    """The person's own SANA account, if they have one (only theirs: by their user)."""
    if user is None or not getattr(user, "pk", None):
        return None
    return SanaAccount.objects.filter(user=user).first()


def has_account(user) -> bool:
    """For the other judicial pages: whether ``user`` holds an active SANA account."""
    account = account_of(user)
    return account is not None and account.state == SanaAccount.State.ACTIVE


# -- registering -----------------------------------------------------------------------------


def register(actor, *, delegation=None, company=None) -> tuple[SanaAccount, bool]:
    """Open (or link) ``actor``'s SANA account; (account, created).

    Already registered: the account, ``created`` False (nothing asked). Raises
    ``roles.NotPermitted`` (who asks), :class:`SanaRefused` (the person must do something
    first) or :class:`SanaUnavailable` (try again); in each case nothing is stored."""
    check_actor(actor, delegation=delegation, company=company)
    existing = account_of(actor)
    if existing is not None:
        return existing, False
    level = int(actor.assurance_level or 0)
    needed = required_level()
    if level < needed:
        query = f"?level={needed}&next={reverse('judiciary:sana')}"
        raise SanaRefused(
            "assurance",
            _(
                "Registering for SANA without a visit needs identity assurance level "
                "%(needed)s; your account is at level %(level)s. Raise your level (for example "
                "with a photo check against your civil registration photo), then come back."
            )
            % {"needed": _digits(needed), "level": _digits(level)},
            action=(reverse("identity:step_up") + query, _("Raise my assurance level")),
        )
    if not actor.mobile:
        raise SanaRefused(
            "no_mobile",
            _("Your account has no mobile number. Add one in your own name, then come back."),
            action=(reverse("identity:account"), _("My account")),
        )
    if actor.birth_date is None:
        raise SanaRefused(
            "no_birth_date",
            _("Your account has no birth date from the civil registry; it cannot be checked."),
        )
    _check_registries(actor)
    answer = _judiciary_account(actor)
    return _store(actor, answer)


def _digits(value: int) -> str:
    from panjereh.common.persian import to_persian_digits

    return to_persian_digits(str(value)) if translation.get_language() == "fa" else str(value)


def _check_registries(actor) -> None:
    """The civil registry and Shahkar, through the exchange (identity's checks)."""
    from panjereh.identity import registry_checks

    try:
        civil = registry_checks.match_identity(actor.national_code, actor.birth_date)
        if civil is None or not civil.alive:
            raise SanaRefused(
                "civil",
                _(
                    "The civil registry does not confirm your national code with the birth "
                    "date on your account. Nothing was registered. Contact a civil "
                    "registration office to correct your record."
                ),
            )
        if not registry_checks.mobile_belongs_to(actor.national_code, actor.mobile):
            raise SanaRefused(
                "mobile",
                _(
                    "The mobile number on your account is not registered in your name, so "
                    "judicial SMS alerts cannot be sent to it. Change it to a number in your own "
                    "name in your account, then come back."
                ),
                action=(reverse("identity:account"), _("My account")),
            )
    except registry_checks.RegistryUnavailable as exc:
        log.warning("sana: registry check failed: %s", exc)
        raise SanaUnavailable(str(exc)) from exc


def _judiciary_account(actor) -> dict[str, Any]:
    """The judiciary's account for the person: the one it holds (opened at an office or
    earlier), else the one it opens now."""
    held = _call(ACCOUNT, actor.national_code)
    if held.get("registered") and held.get("sana_id"):
        return held
    answer = _call(
        REGISTER,
        actor.national_code,
        body={
            "national_code": actor.national_code,
            "mobile": actor.mobile,
            "assurance": int(actor.assurance_level),
        },
    )
    if not (answer.get("registered") and answer.get("sana_id")):
        raise SanaUnavailable("the judiciary's answer holds no SANA number")
    return answer


def _call(spec, national_code: str, *, body: dict[str, Any] | None = None) -> dict[str, Any]:
    from panjereh.common.addresses import exchange_url
    from panjereh.exchange import client as nix_client
    from panjereh.exchange.client import service_address
    from panjereh.exchange.models import ConsumerSystem
    from panjereh.identity import registry_checks

    system = ConsumerSystem.objects.filter(
        subsystem=registry_checks.SUBSYSTEM, enabled=True
    ).first()
    address = service_address(spec[0], spec[1])
    if system is None or address is None:
        raise SanaUnavailable(f"no window consumer or no data service {spec[1]}")
    client = nix_client.NixClient(
        exchange_url("PANJEREH_IDENTITY_EXCHANGE_URL"),
        system.client_id,
        registry_checks.consumer_key(),
        timeout=10.0,
    )
    options: dict[str, Any] = {
        "user_id": national_code,
        "purpose": registry_checks.purpose_service_id(system, PURPOSE_TITLE_EN),
        "items": spec[2],
    }
    try:
        if body is None:
            reply = client.get(f"{address}/{national_code}", **options)
        else:
            reply = client.post(f"{address}/{national_code}", body, **options)
    except nix_client.GatewayRefusal as exc:
        if exc.code == "provider_rejected" and exc.status in (403, 422):
            raise SanaRefused(
                "judiciary",
                _(
                    "The judiciary did not accept the registration without a visit: the details "
                    "it holds do not match yours. Nothing was registered. You can register at a "
                    "judicial e-services office."
                ),
            ) from exc
        log.warning("sana: %s refused %s %s", spec[1], exc.status, exc.code)
        raise SanaUnavailable(f"exchange answered {exc.status} {exc.code}") from exc
    except nix_client.ExchangeError as exc:
        log.warning("sana: %s failed: %s", spec[1], exc)
        raise SanaUnavailable(str(exc)) from exc
    if not reply.found or not isinstance(reply.data, dict):
        raise SanaRefused(
            "judiciary",
            _(
                "The judiciary's records do not hold your national code. Nothing was registered. "
                "You can register at a judicial e-services office."
            ),
        )
    return reply.data


def _moment(text: Any) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return timezone.now()
    return moment if moment.tzinfo else timezone.make_aware(moment)


def _store(actor, answer: dict[str, Any]) -> tuple[SanaAccount, bool]:
    sana_id = str(answer["sana_id"])[:32]
    try:
        with transaction.atomic():
            account = SanaAccount.objects.create(
                user=actor,
                sana_id=sana_id,
                mobile=actor.mobile,
                assurance=int(actor.assurance_level),
                registered_at=_moment(answer.get("registered_at")),
                data={
                    "channel": str(answer.get("channel") or "online")[:20],
                    "linked_at": timezone.now().isoformat(timespec="seconds"),
                    "checks": ["civil", "shahkar"],
                },
            )
    except IntegrityError:
        # Another request of the same person stored it first (a double click).
        existing = account_of(actor)
        if existing is not None:
            return existing, False
        log.error("sana: SANA number %s already belongs to another account", sana_id)
        raise SanaUnavailable("the SANA number is held by another account") from None
    transaction.on_commit(lambda: _tell(account))
    return account, True


def _tell(account: SanaAccount) -> None:
    """The person's inbox message (and its SMS alert): the account is open, with its number."""
    from panjereh.inbox import notify

    with translation.override("fa"):
        url = reverse("judiciary:sana")
    notify.post(
        account.user,
        kind="document",
        dedupe_key=f"sana:{account.sana_id}",
        subject_fa="حساب ثنای شما فعال شد",
        subject_en="Your SANA account is active",
        body_fa=f"شناسه ثنای شما {account.sana_id} است. ابلاغیه‌های قضایی از این پس در صندوق "
        "ابلاغیه‌های رسمی شما گذاشته می‌شود و با پیامک خبردار می‌شوید.",
        body_en=f"Your SANA number is {account.sana_id}. Judicial notices now go to your official "
        "mailbox, and you are told by SMS.",
        link_url=url,
        link_label_fa="حساب ثنای من",
        link_label_en="My SANA account",
    )


# -- setting up the exchange and the mailbox -------------------------------------------------


def provision(agency: Agency, *, resolution_number: str, valid_days: int = 365):
    """Grants for the national window (``agency``, the platform operator) on the judiciary's
    SANA services, under the window's SANA registration service. The civil and Shahkar checks
    use identity's grants (``identity.registry_checks.provision``). For the demo and the tests;
    in production the Interoperability Working Group decides."""
    from panjereh.identity import registry_checks

    return registry_checks.grant_window(
        agency,
        SERVICES,
        purpose=(PURPOSE_TITLE_FA, PURPOSE_TITLE_EN),
        number_base=920_000_000,
        resolution_number=resolution_number,
        valid_days=valid_days,
    )


def judiciary_agency() -> Agency | None:
    """The judiciary as an exchange member: the provider of its registry's services, else the
    catalogue's agency ``judiciary``."""
    from panjereh.exchange.models import DataService

    service = (
        DataService.objects.filter(subsystem=SUBSYSTEM, code="criminal-record")
        .select_related("provider")
        .first()
    )
    if service is not None:
        return service.provider
    return Agency.objects.filter(code="judiciary").first()


def join_mailbox(jwks: dict[str, Any] | None = None, *, agency: Agency | None = None):
    """Register the judiciary's notice system (``court-notices``) as an exchange member system,
    so its courts can send notices through the official mailbox's API; its ConsumerSystem.

    ``jwks``: the public keys of the court system's own key pair (a real deployment: the
    judiciary generates the pair and hands over only the public half). Without it (the demo),
    the judiciary's exchange key in the window's key store (``services.keys``) is registered.
    Notices are signed with the judiciary's signing key there (docs/mailbox.md)."""
    from panjereh.exchange import provision as exchange_provision

    agency = agency or judiciary_agency()
    if agency is None or not agency.member_code:
        raise ValueError("the judiciary is not an exchange member (register its registry first)")
    if jwks is None:
        from panjereh.services import keys
        from panjereh.services.models import AgencyKey

        row = keys.active_key(agency, AgencyKey.Use.EXCHANGE)
        jwks = {"keys": [{**row.public_jwk, "kid": row.kid}]}
    return exchange_provision.register_consumer(
        agency, NOTICE_SUBSYSTEM, jwks, title="Judiciary: court notices (official mailbox)"
    )
