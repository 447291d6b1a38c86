"""The demo: what ``make demo`` adds to the real window, and nothing production installs.

The calibrated national dataset (:mod:`.dataset`, ``panjereh seed``), the back-office accounts
of the demo (``panjereh demo_accounts``), the start-up of the simulated registries
(:mod:`.exchange`) and the sample agency windows (:mod:`.identity`), the participation pages'
sample texts (:mod:`.participation`), and ``panjereh demo`` that runs it all. The app is in
``INSTALLED_APPS`` only when ``PANJEREH_MODE`` is ``demo`` or ``test``; it is the top of the
dependency order (it may import any app, no app imports it).
"""
