"""Judicial e-services: SANA, case progress, bill templates (docs/judiciary.md)."""
