"""The bare forwarder for ``benchmarks/exchange/trust.py`` (never installed in production)."""
