import os

os.environ.setdefault("PANJEREH_MODE", "test")
