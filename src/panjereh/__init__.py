"""Panjereh: a national single window of smart government services."""

__version__ = "0.1.0"
