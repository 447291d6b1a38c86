"""Designer validation benchmark: how long ``definitions.validate`` takes on a 30-item
definition, the check the designer runs as the staff member types (goal: p95 ≤ 50 ms).

Run with ``.venv/bin/python benchmarks/services/design.py [--runs 200]``. Validation is pure
CPU (the JSON Schema, the rules' syntax, the placeholders, the Art. 107 smart rules and their
plain-word reasons): it reads no table, so Django is set up on the default SQLite settings
and no database is created or touched.

The generated definition has 30 fetches (each naming registry items), 30 typed inputs, 30
eligibility rules reading fetched fields and inputs, 30 document fields and 30 steps. Two
variants are timed: a valid smart one (every check passes) and the same marked smart with an
upload, an in-person step, a typed registry item and a manual step (every reason explained).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/benchlib.py
sys.path.insert(0, str(ROOT / "src"))
from benchlib import percentile  # noqa: E402

P95_GOAL_MS = 50.0
N = 30


def generated() -> dict:
    from panjereh.catalogue.rules import make_service_id
    from panjereh.catalogue.vocab import REGISTRY_ITEMS

    items = sorted(REGISTRY_ITEMS)
    data = [
        {
            "name": f"f{i}",
            "label_fa": f"استعلام شماره {i}",
            "label_en": f"Inquiry {i}",
            "registry": items[i % len(items)].split(".")[0],
            "service": f"service-{i}",
            "items": [items[i % len(items)], items[(i + 1) % len(items)]],
            "subject": "applicant" if i == 0 else f"f{i - 1}.national_code",
            "required": ["national_code", "first_name"],
        }
        for i in range(N)
    ]
    inputs = [
        {
            "code": f"note_{i}",
            "label_fa": f"توضیح {i}",
            "label_en": f"Note {i}",
            "source": "user",
            "max_length": 200,
            "required": i % 2 == 0,
        }
        for i in range(N)
    ]
    eligibility = [
        {
            "rule": {
                "all": [
                    {"field": f"f{i}.alive", "op": "true"},
                    {"field": f"input.note_{i}", "op": "not_empty"},
                ]
            },
            "reason": {"code": f"r{i}", "fa": f"دلیل {i}", "en": f"Reason {i}"},
        }
        for i in range(N)
    ]
    return {
        "code": "benchmark-thirty",
        "version": 1,
        "service_id": make_service_id("000000099"),
        "agency": {"code": "bench", "name_fa": "دستگاه آزمون", "name_en": "Bench agency"},
        "title_fa": "خدمت سی‌قلمی",
        "title_en": "Thirty-item service",
        "smart": True,
        "assurance_level": 2,
        "target_minutes": 5,
        "data": data,
        "inputs": inputs,
        "uploads": [],
        "in_person_steps": [],
        "steps": [
            {
                "code": f"s{i}",
                "kind": "automatic",
                "label_fa": f"مرحله {i}",
                "label_en": f"Step {i}",
            }
            for i in range(N)
        ],
        "eligibility": eligibility,
        "decision": {
            "approved": {"fa": "صادر شد.", "en": "Issued."},
            "rejected": {"fa": "صادر نشد.", "en": "Not issued."},
        },
        "document": {
            "type": "bench",
            "title_fa": "سند آزمون",
            "title_en": "Bench document",
            "statement_fa": " ".join(f"{{f{i}.first_name}}" for i in range(N)),
            "statement_en": " ".join(f"{{f{i}.first_name}}" for i in range(N)),
            "fields": [
                {
                    "label_fa": f"خانه {i}",
                    "label_en": f"Field {i}",
                    "value": f"{{f{i}.birth_date|jdate}} {{input.note_{i}}}",
                }
                for i in range(N)
            ],
        },
    }


def not_smart(spec: dict) -> dict:
    bad = copy.deepcopy(spec)
    bad["uploads"].append({"code": "card", "label_fa": "کارت ملی", "label_en": "National card"})
    bad["in_person_steps"].append({"label_fa": "مراجعه به دفتر", "label_en": "Office visit"})
    bad["inputs"].append({"code": "birth_date", "label_fa": "تاریخ تولد", "source": "user"})
    bad["steps"][1]["kind"] = "manual"
    return bad


def timed(spec: dict, runs: int, *, typing: bool) -> tuple[list[float], list[float], list[str]]:
    """Validation times (ms). Cold: the remembered schema answers are forgotten before each
    run (the whole definition is checked). Typing: each run changes one rule's reason text,
    as a keystroke would (the other parts' schema answers are remembered)."""
    from panjereh.services import definitions

    problems = definitions.validate(spec)  # warm imports, translations, compiled patterns
    times, cpu = [], []
    for run in range(runs):
        if typing:
            spec["eligibility"][run % N]["reason"]["en"] = f"Reason {run}"
        else:
            definitions._part_errors.cache_clear()
        started, started_cpu = time.perf_counter(), time.process_time()
        definitions.validate(spec)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return times, cpu, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")
    import django

    django.setup()
    from django.utils import translation

    translation.activate("fa")
    spec = generated()
    results = {}
    ok = True
    variants = (
        ("valid smart, cold", spec, False),
        ("valid smart, typing", copy.deepcopy(spec), True),
        ("4 faults, cold", not_smart(spec), False),
    )
    for name, variant, typing in variants:
        times, cpu, problems = timed(variant, args.runs, typing=typing)
        p50, p95 = percentile(times, 0.50), percentile(times, 0.95)
        ok = ok and p95 <= P95_GOAL_MS
        results[name] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
        print(
            f"{name:>20}: p50 {p50:.2f} ms, p95 {p95:.2f} ms over {args.runs} validations "
            f"(CPU p50 {percentile(cpu, 0.5):.2f} ms, p95 {percentile(cpu, 0.95):.2f} ms; "
            f"{len(problems)} problems)"
        )
    size = len(json.dumps(spec, ensure_ascii=False).encode())
    print(
        f"definition: {N} fetches, {N} inputs, {N} rules, {N} fields, {N} steps ({size} bytes); "
        f"goal p95 ≤ {P95_GOAL_MS:.0f} ms: {'met' if ok else 'NOT met'}; "
        f"{platform.python_implementation()} {platform.python_version()}, pure CPU (SQLite settings, no query)"
    )
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times wait for a core)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
