"""The transaction-credit check: both parties of a deal consent, then each sees the other's
financial-conviction status (docs/credit.md)."""
