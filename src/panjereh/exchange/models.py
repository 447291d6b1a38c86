"""The exchange's facts: data services, consumer systems, grants, the message log and its seals.

Grants change state only through :func:`panjereh.exchange.grants.transition`, which records a
:class:`GrantEvent`. Log records are inserted once, with their sequence number and chain hash,
and sealed later by seq range (:mod:`panjereh.exchange.log`); nothing updates them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue.models import Agency, Service
from panjereh.catalogue.vocab import EXCHANGE_ONLY_ITEMS, REGISTRY_ITEMS

from . import conf


def item_label(code: str, language: str = "fa") -> str:
    known = REGISTRY_ITEMS.get(code) or EXCHANGE_ONLY_ITEMS.get(code)
    if not known:
        return code
    return known[1] if language.startswith("fa") else known[2]


class DataService(models.Model):
    """A service a provider publishes on the exchange (one REST resource of a subsystem)."""

    provider = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="data_services", verbose_name=_("provider")
    )
    subsystem = models.SlugField(_("subsystem"), max_length=60)
    code = models.SlugField(_("service code"), max_length=80)
    version = models.CharField(_("version"), max_length=20, default="1.0")
    title_fa = models.CharField(_("Persian title"), max_length=300)
    title_en = models.CharField(_("English title"), max_length=300, blank=True)
    openapi = models.JSONField(_("OpenAPI description"), default=dict, blank=True)
    # [{"code": "civil.identity", "fields": [...], "label_fa": ..., "label_en": ...}, ...]
    items = models.JSONField(_("data items"), default=list)
    # Fields that identify the record (the consumer already knows them): always returned.
    key_fields = models.JSONField(_("key fields"), default=list, blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    upstream_base_url = models.URLField(_("provider address"), max_length=300)
    timeout_ms = models.PositiveIntegerField(_("timeout (ms)"), default=3000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("data service")
        verbose_name_plural = _("data services")
        ordering = ["provider_id", "subsystem", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subsystem", "code"], name="data_service_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subsystem}/{self.code} v{self.version}"

    @property
    def item_codes(self) -> list[str]:
        return [item["code"] for item in self.items]

    def fields_of(self, codes: list[str]) -> set[str]:
        wanted = set(codes)
        return {f for item in self.items if item["code"] in wanted for f in item["fields"]}

    def path(self) -> str:
        """The service's X-Road address without the instance: ``GOV/10000001/civil-registry/identity``."""
        return (
            f"{self.provider.member_class}/{self.provider.member_code}/{self.subsystem}/{self.code}"
        )


class ConsumerSystem(models.Model):
    """A consumer agency's information system (an X-Road subsystem) and its public keys."""

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="consumer_systems", verbose_name=_("agency")
    )
    subsystem = models.SlugField(_("subsystem"), max_length=60)
    title = models.CharField(_("title"), max_length=200, blank=True)
    # A JWK set {"keys": [...]} of public keys; client assertions must be signed by one of them.
    jwks = models.JSONField(_("public keys (JWK set)"), default=dict)
    enabled = models.BooleanField(_("enabled"), default=True)
    rate_per_minute = models.PositiveIntegerField(_("calls per minute"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("consumer system")
        verbose_name_plural = _("consumer systems")
        constraints = [
            models.UniqueConstraint(fields=["agency", "subsystem"], name="consumer_system_unique")
        ]

    def __str__(self) -> str:
        return self.client_id

    @property
    def client_id(self) -> str:
        return (
            f"{conf.get('INSTANCE')}/{self.agency.member_class}/{self.agency.member_code}/"
            f"{self.subsystem}"
        )


class GrantState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    IMPLEMENTED = "implemented", _("Implemented")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


ACTIVE_STATES = (GrantState.APPROVED, GrantState.IMPLEMENTED)


class Grant(models.Model):
    """Access of a consumer agency to named data items of a data service, for a purpose."""

    consumer = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="exchange_grants", verbose_name=_("consumer")
    )
    service = models.ForeignKey(
        DataService, on_delete=models.PROTECT, related_name="grants", verbose_name=_("data service")
    )
    purpose = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        related_name="exchange_grants",
        verbose_name=_("purpose (service of the consumer)"),
    )
    requested_items = models.JSONField(_("requested items"), default=list)
    items = models.JSONField(_("granted items"), default=list, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=GrantState.choices, default=GrantState.REQUESTED
    )
    resolution_number = models.CharField(_("resolution number"), max_length=40, blank=True)
    resolution_session = models.CharField(_("session"), max_length=40, blank=True)
    resolution_date = models.DateField(_("resolution date"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    implementation_deadline = models.DateField(_("implementation deadline"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    implemented_at = models.DateTimeField(_("implemented at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("revoked or expired at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["consumer", "service", "state"])]

    def __str__(self) -> str:
        return f"{self.consumer_id} → {self.service_id} ({self.state})"

    def is_expired_on(self, day: dt.date) -> bool:
        return self.valid_until is not None and day > self.valid_until

    @property
    def overdue(self) -> bool:
        """Approved but not used by its implementation deadline."""
        return (
            self.state == GrantState.APPROVED
            and self.implementation_deadline is not None
            and timezone.localdate() > self.implementation_deadline
        )


class GrantEvent(models.Model):
    """One transition of a grant: who, when, from which state to which, and why."""

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["grant_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.grant_id}: {self.from_state or '∅'} → {self.to_state}"


class Outcome(models.TextChoices):
    OK = "ok", _("Answered")
    NOT_FOUND = "not_found", _("No such record")
    REFUSED = "refused", _("Refused")
    PROVIDER_ERROR = "provider_error", _("Provider failed")
    GATEWAY_ERROR = "gateway_error", _("Gateway failed")


FAILED_OUTCOMES = (Outcome.PROVIDER_ERROR, Outcome.GATEWAY_ERROR)
READ_OUTCOMES = (Outcome.OK, Outcome.NOT_FOUND)


class Seal(models.Model):
    """A signed statement that records ``first_seq..last_seq`` end with chain hash ``last_hash``."""

    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField(unique=True)
    last_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=32)
    signature = models.TextField()

    class Meta:
        ordering = ["last_seq"]

    def __str__(self) -> str:
        return f"seal {self.first_seq}–{self.last_seq}"


class LogRecord(models.Model):
    """One call through the gateway, refused ones included. Inserted once, chained at insert
    (``seq``, ``hash``); the seals cover ranges of ``seq``."""

    created_at = models.DateTimeField()
    x_road_id = models.CharField(max_length=36, unique=True)
    incident = models.CharField(max_length=40, blank=True)
    client = models.CharField(max_length=200, blank=True)
    consumer = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consumer_system = models.ForeignKey(
        ConsumerSystem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service = models.ForeignKey(
        DataService, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    grant = models.ForeignKey(
        Grant, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    subject = models.CharField(max_length=20, blank=True)
    # The person the read was made for (``X-Panjereh-For``), when not the subject: e.g. the
    # other party of a credit check. The read shows in their "who read my data" too.
    made_for = models.CharField(max_length=20, blank=True, default="", db_default="")
    issue = models.CharField(max_length=200, blank=True)
    purpose = models.CharField(max_length=10, blank=True)
    items = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    fault = models.CharField(max_length=10, blank=True)
    reason = models.CharField(max_length=40, blank=True)
    http_status = models.PositiveSmallIntegerField()
    latency_us = models.PositiveBigIntegerField()
    request_hash = models.CharField(max_length=64)
    response_hash = models.CharField(max_length=64, blank=True)
    # Given at insert: position in the chain and sha256(previous hash + canonical record). Null
    # only on records written before chaining moved to the insert (migration 0003 chains them).
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["subject", "created_at"]),
            models.Index(fields=["created_at"]),
            models.Index(
                fields=["made_for", "created_at"],
                name="exchange_log_made_for",
                condition=~models.Q(made_for=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.x_road_id} {self.outcome}"

    def canonical(self) -> dict[str, Any]:
        """The sealed content of the record: everything but the chain fields themselves."""
        values = {name: getattr(self, name) for _key, name in CANONICAL_FIELDS}
        values["made_for"] = self.made_for
        return canonical_content(values)


# The chained fields (attname), in the order of the canonical content's keys.
CANONICAL_FIELDS = (
    ("seq", "seq"),
    ("created_at", "created_at"),
    ("x_road_id", "x_road_id"),
    ("incident", "incident"),
    ("client", "client"),
    ("consumer", "consumer_id"),
    ("consumer_system", "consumer_system_id"),
    ("provider", "provider_id"),
    ("service", "service_id"),
    ("grant", "grant_id"),
    ("method", "method"),
    ("path", "path"),
    ("subject", "subject"),
    ("issue", "issue"),
    ("purpose", "purpose"),
    ("items", "items"),
    ("outcome", "outcome"),
    ("fault", "fault"),
    ("reason", "reason"),
    ("http_status", "http_status"),
    ("latency_us", "latency_us"),
    ("request_hash", "request_hash"),
    ("response_hash", "response_hash"),
)


def canonical_content(values: dict[str, Any]) -> dict[str, Any]:
    """A log record's chained content from its field values by attname (a model instance's
    ``__dict__``, or the values the gateway inserts): one definition for the insert, which
    hashes the values it writes, and for verification, which hashes the rows it reads."""
    content = {key: values.get(attname) for key, attname in CANONICAL_FIELDS}
    content["created_at"] = content["created_at"].astimezone(dt.UTC).isoformat()
    content["items"] = list(content["items"] or [])
    # Chained only when set, so records from before the field (and every record without it)
    # keep the content, and the hash, they were chained with.
    if values.get("made_for"):
        content["made_for"] = values["made_for"]
    return content


# The hash before the first record of the chain.
GENESIS = "0" * 64


class LogHead(models.Model):
    """The end of the chain (one row): every insert into the log locks it, numbers its rows
    after it and moves it; the sealer locks it too, so only one seals at a time."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS)

    def __str__(self) -> str:
        return f"head {self.last_seq}"


class MonthlyStat(models.Model):
    """Roll-up of the log per Jalali month × provider × consumer × service."""

    month = models.CharField(max_length=7, db_index=True)  # Jalali, "1404-03"
    provider = models.ForeignKey(Agency, null=True, on_delete=models.CASCADE, related_name="+")
    consumer = models.ForeignKey(Agency, null=True, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(DataService, null=True, on_delete=models.CASCADE, related_name="+")
    calls = models.PositiveBigIntegerField(default=0)
    failures = models.PositiveBigIntegerField(default=0)
    refused = models.PositiveBigIntegerField(default=0)
    latency_p50_ms = models.FloatField(null=True)
    latency_p95_ms = models.FloatField(null=True)
    latency_p99_ms = models.FloatField(null=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["month", "consumer"]),
            models.Index(fields=["month", "provider"]),
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.provider_id}→{self.consumer_id} {self.service_id}"

    @property
    def quality(self) -> float | None:
        return 1 - self.failures / self.calls if self.calls else None
