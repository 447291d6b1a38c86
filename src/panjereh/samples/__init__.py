"""Small programs that stand in for other organisations' systems (run as separate processes)."""
