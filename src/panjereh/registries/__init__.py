"""Simulated base registries: other organisations' systems, reached only over HTTP.

This package deliberately imports nothing from Django or from the rest of Panjereh's apps: a
real civil registry shares no code or database with the national window. Each registry runs as
its own process (:mod:`.server`), computes its records on demand from one synthetic population
(:mod:`.population`) and is started, watched and stopped by :mod:`.supervisor`.
"""

REGISTRIES: tuple[str, ...] = (
    "civil",
    "shahkar",
    "post",
    "ssaa",
    "health",
    "science",
    "education",
    "judiciary",
    "martyrs",
    "relief",
    "ssi",
    "tax",
    "vehicle",
    "insurance",
    "welfare",
    "vocational",
    "location",
    "foreign",
)

PROFILES: dict[str, int] = {"small": 10_000, "national": 1_000_000}
