"""Admin views of oversight facts. Status changes go through the oversight pages (which record
events), so statuses and events are read-only here."""

from django.contrib import admin

from panjereh.common.forms import StringListAdminMixin

from .models import (
    DueEvent,
    DueInstance,
    EvaluationRound,
    Instrument,
    MonthlyReport,
    Obligation,
    PlanEvent,
    RankingConfig,
    Score,
    ServiceTransactions,
    SmarteningPlan,
    Trigger,
)


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["code", "title_fa", "authority", "notified"]


@admin.register(Trigger)
class TriggerAdmin(admin.ModelAdmin):
    # Setting a trigger's date is how a relative deadline gets its date.
    list_display = ["code", "occurred_on"]


@admin.register(Obligation)
class ObligationAdmin(StringListAdminMixin, admin.ModelAdmin):
    string_list_fields = ("responsible",)
    list_display = ["key", "deadline_kind", "deadline", "recurrence"]
    list_filter = ["deadline_kind", "instrument"]
    search_fields = ["key", "duty_en", "duty_fa"]


class DueEventInline(admin.TabularInline):
    model = DueEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "from_status", "to_status", "note"]


@admin.register(DueInstance)
class DueInstanceAdmin(admin.ModelAdmin):
    list_display = ["obligation", "period", "due_on", "status"]
    list_filter = ["status"]
    readonly_fields = ["status", "evidence", "reason", "closed_at"]
    inlines = [DueEventInline]


class PlanEventInline(admin.TabularInline):
    model = PlanEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "from_state", "to_state", "note"]


@admin.register(SmarteningPlan)
class SmarteningPlanAdmin(admin.ModelAdmin):
    list_display = ["agency", "year", "state", "submitted_at", "approval_due"]
    list_filter = ["state", "year"]
    readonly_fields = ["state", "submitted_at", "approval_due", "decided_at"]
    inlines = [PlanEventInline]


@admin.register(MonthlyReport)
class MonthlyReportAdmin(admin.ModelAdmin):
    list_display = ["agency", "year", "month", "submitted_at"]
    readonly_fields = ["figures"]


@admin.register(EvaluationRound)
class EvaluationRoundAdmin(admin.ModelAdmin):
    list_display = ["label", "closed"]


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ["round", "agency", "indicator", "score"]


@admin.register(RankingConfig)
class RankingConfigAdmin(admin.ModelAdmin):
    list_display = ["year", "weights"]


@admin.register(ServiceTransactions)
class ServiceTransactionsAdmin(admin.ModelAdmin):
    # Agencies' entries of offline transactions and costs (service performance).
    list_display = ["month", "service", "agency", "offline_transactions", "cost_rials"]
    list_filter = ["month"]
    raw_id_fields = ["service", "agency", "entered_by"]
