"""Asset inquiry and freezing for a judicial case, through the exchange (docs/assets.md)."""
