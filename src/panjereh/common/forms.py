"""Form helpers shared by every app's pages."""

from __future__ import annotations

from django import forms


class AccessibleForm(forms.Form):
    """Ties each input to its hint and error messages (``aria-describedby``) and marks inputs
    in error (``aria-invalid``), so that screen readers announce them with the field."""

    def full_clean(self) -> None:
        super().full_clean()
        for name, field in self.fields.items():
            bound = self[name]
            described = []
            if field.help_text:
                described.append(f"{bound.auto_id}-hint")
            if name in self.errors:
                described.append(f"{bound.auto_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)
