"""The designer's test run: a definition (a draft, or any version) run for a chosen sample person
against the registries, through the exchange, issuing nothing.

It follows the engine's own code: the fetches through ``nix.fetch`` (the agency's consumer
system and grants, so a missing grant shows here as it would for an application), whom each
fetch asks about (``engine.subject_of``), the completeness check (``engine.incomplete``), the
rules and manual steps (``engine.judge``) and the document's values (``documents.payload_for``
and ``labels.render``). It writes no application, journey event, fetched data, document number
or signature. The exchange's message log does record its calls, under an issue
``TEST-RUN-…``: they are real reads of the person's data and stay accountable.

Who may run it: the agency's editors (the designers) and AEO (reviewing a smart draft).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency, Service

from . import definitions, engine, nix
from .labels import render
from .models import ServiceDefinition

NOT_ISSUED = "TEST-RUN"


@dataclass
class Step:
    """One step of the journey the test run went through."""

    kind: str  # fetch | check | decide | document
    outcome: str  # received | not_found | refused | unavailable | skipped | complete |
    # incomplete | approved | rejected | officer | rendered
    text_fa: str
    text_en: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class TestRun:
    """What a definition would do for one person: every step, the outcome, and the document
    it would issue (rendered, never numbered or signed)."""

    __test__ = False  # not a pytest class

    code: str
    version: int
    national_code: str
    issue: str
    problems: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    outcome: str = ""  # issued | rejected | officer | stopped | invalid
    reasons: list[dict[str, str]] = field(default_factory=list)
    document: dict[str, Any] | None = None


def _target(definition_or_spec: ServiceDefinition | dict[str, Any]):
    """(spec, something nix.fetch accepts: the agency and the card's service ID)."""
    if isinstance(definition_or_spec, ServiceDefinition):
        return definition_or_spec.spec, definition_or_spec
    spec = definition_or_spec
    agency = Agency.objects.filter(code=(spec.get("agency") or {}).get("code", "")).first()
    service = Service.objects.filter(service_id=spec.get("service_id", "")).first()
    like = SimpleNamespace(
        agency=agency,
        service=service or SimpleNamespace(service_id=str(spec.get("service_id", ""))),
        spec=spec,
    )
    return spec, like


def _require(actor, agency_id) -> None:
    if roles.can(actor, roles.CERTIFY) or roles.can(actor, roles.EDIT, agency_id):
        return
    raise roles.NotPermitted(
        _("Only the agency's editors and AEO can test-run its definitions."), roles.EDIT
    )


def test_run(
    definition_or_spec: ServiceDefinition | dict[str, Any],
    national_code: str,
    *,
    actor,
    inputs: dict[str, str] | None = None,
) -> TestRun:
    """Run the definition for the person ``national_code`` (applicant and subject), with the
    typed ``inputs``; nothing is issued or stored."""
    spec, target = _target(definition_or_spec)
    agency = getattr(target, "agency", None)
    if agency is None:
        roles.require(actor, roles.CERTIFY)  # only the platform may try an unknown agency's
    else:
        _require(actor, agency.pk)
    run = TestRun(
        code=str(spec.get("code", "")) if isinstance(spec, dict) else "",
        version=int(spec.get("version") or 0) if isinstance(spec, dict) else 0,
        national_code=national_code,
        issue=f"{NOT_ISSUED}-{secrets.token_hex(4).upper()}",
    )
    run.problems = definitions.validate(spec)
    if run.problems:
        run.outcome = "invalid"
        return run
    if agency is None:
        run.problems = [_("The agency the definition names is not in the catalogue.")]
        run.outcome = "invalid"
        return run
    typed = {
        item["code"]: str((inputs or {}).get(item["code"], "")) for item in spec.get("inputs", [])
    }
    data: dict[str, Any] = {"input": typed, "subject": national_code}
    answers: dict[str, tuple[bool, dict[str, Any]]] = {}
    for fetch_spec in spec["data"]:
        name, registry = fetch_spec["name"], fetch_spec["registry"]
        fa, en = engine.registry_name(registry)
        what_fa, what_en = engine.fetch_label(fetch_spec)
        subject = engine.subject_of(fetch_spec, national_code, national_code, data)
        about = {"fetch": name, "registry": registry, "service": fetch_spec["service"]}
        if not subject:
            run.steps.append(
                Step(
                    "fetch",
                    "skipped",
                    f"اطلاعات لازم برای استعلام «{name}» از {fa} در سوابق نیامده است.",
                    f"The records do not give the person to ask {en} about ({name}).",
                    {**about, "missing": fetch_spec.get("subject")},
                )
            )
            run.outcome = "officer"
            return run
        try:
            answer = nix.fetch(target, fetch_spec, subject, issue=run.issue)
        except nix.ExchangeRefused as exc:
            why_fa, why_en = engine.REFUSALS.get(exc.code, engine.REFUSED_OTHER)
            run.steps.append(
                Step(
                    "fetch",
                    "refused",
                    f"استعلام {what_fa} از {fa} پذیرفته نشد: {why_fa}.",
                    f"{what_en}: the inquiry to {en} was refused: {why_en}.",
                    {**about, "subject": subject, "refused": exc.code, "incident": exc.incident},
                )
            )
            run.outcome = "stopped"
            return run
        except nix.ProviderUnavailable as exc:
            run.steps.append(
                Step(
                    "fetch",
                    "unavailable",
                    f"{fa} پاسخ نداد؛ درخواست واقعی منتظر می‌ماند و دوباره تلاش می‌کند.",
                    f"{en} did not answer; a real application would wait and try again.",
                    {**about, "subject": subject, "detail": exc.detail},
                )
            )
            run.outcome = "stopped"
            return run
        answers[name] = (answer.found, answer.record)
        data[name] = answer.record
        run.steps.append(
            Step(
                "fetch",
                "received" if answer.found else "not_found",
                f"{what_fa} از {fa} دریافت شد" if answer.found else f"{fa}: {what_fa} یافت نشد",
                f"{what_en}: received from {en}" if answer.found else f"{en}: no {what_en} found",
                {
                    **about,
                    "subject": subject,
                    "record": answer.record,
                    "x_road_id": answer.message_id,
                },
            )
        )
    problems_fa, problems_en, detail = engine.incomplete(spec, answers)
    if problems_fa:
        run.steps.append(
            Step(
                "check",
                "incomplete",
                "ارجاع به کارشناس: " + "؛ ".join(problems_fa),
                "Sent to an officer: " + "; ".join(problems_en),
                {"problems": detail},
            )
        )
        run.outcome = "officer"
        return run
    run.steps.append(
        Step("check", "complete", "همه اطلاعات لازم دریافت شد", "All the data needed was received")
    )
    failed, manual = engine.judge(spec, data)
    if failed:
        decision = spec["decision"]["rejected"]
        run.steps.append(
            Step(
                "decide",
                "rejected",
                "تصمیم: رد — " + "؛ ".join(r["fa"] for r in failed),
                "Decision: rejected — " + "; ".join(r["en"] for r in failed),
                {"reasons": failed, "decision": decision},
            )
        )
        run.outcome, run.reasons = "rejected", failed
        return run
    if manual:
        run.steps.append(
            Step(
                "decide",
                "officer",
                "ارجاع به کارشناس: " + manual[0].get("label_fa", ""),
                "Sent to an officer: " + manual[0].get("label_en", ""),
                {"step": manual[0].get("code")},
            )
        )
        run.outcome = "officer"
    else:
        run.steps.append(Step("decide", "approved", "تصمیم: پذیرش", "Decision: approved"))
        run.outcome = "issued"
    try:
        run.document = document_preview(target, spec, data, national_code, run.issue)
    except (KeyError, TypeError, ValueError) as exc:
        # The engine would stop here too and hand the application to an officer.
        fa, en = engine.FAULT
        run.steps.append(
            Step("document", "fault", fa, en, {"fault": type(exc).__name__, "detail": str(exc)})
        )
        run.outcome = "stopped"
        return run
    run.steps.append(
        Step(
            "document",
            "rendered",
            "سندی که صادر می‌شد (بدون شماره و امضا؛ چیزی صادر نشد)"
            if not manual
            else "سندی که پس از تأیید کارشناس صادر می‌شد (چیزی صادر نشد)",
            "The document it would issue (no number, no signature; nothing was issued)"
            if not manual
            else "The document it would issue once an officer approves (nothing was issued)",
        )
    )
    return run


def document_preview(
    target, spec: dict[str, Any], data: dict[str, Any], subject: str, issue: str
) -> dict[str, Any]:
    """The document's claims as ``documents.payload_for`` writes them, for an application that
    does not exist (no number, no signature, no status list entry), plus the English
    statement."""
    from . import documents

    application = SimpleNamespace(
        definition=SimpleNamespace(spec=spec, service=target.service),
        agency=target.agency,
        tracking_code=issue,
        subject_code=subject,
    )
    claims = documents.payload_for(application, data, number="")
    claims["text_en"] = render(spec["document"].get("statement_en", ""), data, "en")
    return claims


def data_of(run: TestRun, inputs: dict[str, str] | None = None) -> dict[str, Any]:
    """The data a test run fetched, as the rules and the document read it (``subject``,
    ``input`` and each fetch's record by its name)."""
    data: dict[str, Any] = {"input": dict(inputs or {}), "subject": run.national_code}
    for step in run.steps:
        if step.kind == "fetch" and step.outcome in ("received", "not_found"):
            data[step.data["fetch"]] = step.data.get("record") or {}
    return data


def preview(
    definition_or_spec: ServiceDefinition | dict[str, Any],
    data: dict[str, Any],
    national_code: str,
) -> dict[str, Any]:
    """The document ``definition_or_spec`` would issue with ``data`` (fetched before by a test
    run): the designer's live preview as the officer edits the document's texts. Raises
    KeyError, TypeError or ValueError where the engine would stop."""
    spec, target = _target(definition_or_spec)
    return document_preview(target, spec, data, national_code, NOT_ISSUED)
