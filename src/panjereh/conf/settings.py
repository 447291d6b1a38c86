"""Settings, read from environment variables.

Every secret and every address comes from the environment; the defaults are the embedded
demo mode (SQLite in ``./var``, background work in process). ``PANJEREH_MODE=production``
refuses to start without a real secret key and turns on the secure-cookie settings.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from panjereh.common.conf import env

BASE_DIR = Path(__file__).resolve().parent.parent  # src/panjereh
PROJECT_DIR = Path(env("PANJEREH_HOME", str(Path.cwd())))
VAR_DIR = Path(env("PANJEREH_VAR", str(PROJECT_DIR / "var")))

MODE = env("PANJEREH_MODE", "demo")  # demo | production | test

SECRET_KEY = env("PANJEREH_SECRET_KEY", "")
if not SECRET_KEY:
    if MODE == "production":
        raise ImproperlyConfigured("PANJEREH_SECRET_KEY must be set in production")
    SECRET_KEY = "demo-only-insecure-key-do-not-use-in-production"  # noqa: S105

DEBUG = env("PANJEREH_DEBUG", False)
ALLOWED_HOSTS = env("PANJEREH_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env("PANJEREH_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "panjereh.common",
    "panjereh.identity",
    "panjereh.catalogue",
    "panjereh.portal",
    "panjereh.exchange",
    "panjereh.oversight",
    "panjereh.services",
    "panjereh.payments",
    "panjereh.inbox",
    "panjereh.feedback",
    "panjereh.participation",
    "panjereh.status",
    "panjereh.proactive",
    "panjereh.permits",
    "panjereh.mailbox",
    "panjereh.judiciary",
    "panjereh.appointments",
    "panjereh.credit",
    "panjereh.assets",
    "panjereh.personal",
    "panjereh.citizenapi",
    "oauth2_provider",
]
# The demo (panjereh demo, seed, demo_accounts and the sample data): never in production.
if MODE in {"demo", "test"}:
    INSTALLED_APPS.append("panjereh.demo")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed for browsers that accept it (WhiteNoise serves the static files' own
    # Brotli and gzip copies above): the home page's 23 KB of HTML travel as 4 KB, which a
    # phone's repeat visit is mostly made of (docs/benchmarks.md, "Phone"). Above the page
    # cache, which keeps pages uncompressed; Django's gzip pads against BREACH, and the CSRF
    # token is masked afresh on every page.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "panjereh.common.badinput.BadInputMiddleware",
    # Public pages for visitors not signed in, from the shared cache: before CSRF, auth and
    # messages, so that a kept page runs none of them and no SQL (portal.pagecache).
    "panjereh.portal.pagecache.PublicPageCacheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The installable app: marks signed-in pages with their holder and makes the sign-out clear
    # the site's data in the browser (portal.pwa, docs/pwa.md).
    "panjereh.portal.pwa.OfflineCopyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "panjereh.conf.urls"
WSGI_APPLICATION = "panjereh.conf.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],  # the window's overrides of the admin templates
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            "builtins": ["panjereh.common.templatetags.persian"],
        },
    }
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'panjereh.sqlite3'}"),
        conn_max_age=env("PANJEREH_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo server read while the seeder or a worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if MODE == "test":
    # Hashing cost is not what the tests measure.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# The cache holds what every server process must agree on: one-use client assertions (jti),
# rate-limit and lockout counters, the exchange's grant generation. Redis (django-redis) when
# REDIS_URL is set: production and the PostgreSQL test run, with the sessions there too. The
# demo (one host, no Redis) uses a cache on this host's disk that all its processes share
# (diskcache's Django backend: atomic add and incr across the server's workers). The SQLite
# test run is one process and uses the in-memory cache.
if env("REDIS_URL", ""):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": env("REDIS_URL", ""),
            "KEY_PREFIX": "pj",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
elif MODE == "test":
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pj"}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "panjereh.common.cache.SharedDiskCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "TIMEOUT": 300,
            "SHARDS": 4,
            "DATABASE_TIMEOUT": 1.0,
            "OPTIONS": {"size_limit": 2**28},
        }
    }

LANGUAGE_CODE = "fa"
LANGUAGES = [("fa", _("Persian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tehran"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("PANJEREH_STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env("PANJEREH_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = MODE != "production"
if WHITENOISE_USE_FINDERS:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
if MODE == "production":
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

LOGIN_URL = "admin:login"

# Security headers and cookies. Secure cookies need HTTPS, which the loopback demo lacks.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# How many reverse proxies stand in front of the server, each appending to X-Forwarded-For.
# 0 (the default): the client's address is REMOTE_ADDR and X-Forwarded-For is never read, so a
# client cannot choose the address that rate limits and the audit trail count it by.
PANJEREH_TRUSTED_PROXIES = env("PANJEREH_TRUSTED_PROXIES", 0)
# Content-Security-Policy on every page (django-csp), in every mode so that tests meet it: no
# inline script, style or event handler anywhere; scripts, styles, fonts and images come from
# this site only. form-action is left open: the consent form's answer redirects to the agency
# window, which a form-action of 'self' would block.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
# A signed-in session at the national window lasts two hours unless configured otherwise.
SESSION_COOKIE_AGE = env("PANJEREH_SESSION_SECONDS", 7200)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if MODE == "production":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env("PANJEREH_HSTS_SECONDS", 31536000)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env("PANJEREH_SSL_REDIRECT", True)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env("PANJEREH_ANON_RATE", "600/minute")},
    # DRF's default (None) would key anonymous throttling by the client-written X-Forwarded-For.
    "NUM_PROXIES": PANJEREH_TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Panjereh API",
    "DESCRIPTION": "APIs of the national single window of smart government services.",
    "VERSION": "0.1.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("PANJEREH_LOG_LEVEL", "WARNING")},
}

# Where the demo's public address is, for links printed by commands and put in QR codes.
PUBLIC_BASE_URL = env("PANJEREH_PUBLIC_URL", "http://127.0.0.1:8000")

# Identity and single sign-on (OpenID Connect provider, django-oauth-toolkit).
from panjereh.identity.keys import EC_FILE, RSA_FILE, configured_key  # noqa: E402

LOGIN_URL = "identity:login"
AUTHENTICATION_BACKENDS = ["panjereh.identity.backends.RateLimitedModelBackend"]
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# ES256 ID tokens (the agency windows' default): the library signs RS256 only, Panjereh adds this.
# The keys are read here, never created: outside production the identity app creates the ones
# not yet in VAR_DIR/oidc/ when it starts (identity.keys.ensure_oidc_keys).
PANJEREH_OIDC_EC_KEY = configured_key(env("PANJEREH_OIDC_EC_KEY", ""), VAR_DIR, MODE, EC_FILE)
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": configured_key(env("PANJEREH_OIDC_KEY", ""), VAR_DIR, MODE, RSA_FILE),
    "OIDC_ISS_ENDPOINT": env("PANJEREH_OIDC_ISSUER", ""),
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise"],
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    # "none": the window's own mobile app, a public client with PKCE (docs/api.md, Citizen API).
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ],
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "PKCE_REQUIRED": True,
    # ir.gov.panjereh.app: the private-use scheme of the window's own mobile app (RFC 8252 7.1).
    "ALLOWED_REDIRECT_URI_SCHEMES": (["https", "http"] if MODE != "production" else ["https"])
    + ["ir.gov.panjereh.app"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "ID_TOKEN_EXPIRE_SECONDS": 600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 8 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "OAUTH2_VALIDATOR_CLASS": "panjereh.identity.oidc.PanjerehValidator",
    "OIDC_SERVER_CLASS": "panjereh.identity.oidc.PanjerehServer",
    "ACCESS_TOKEN_GENERATOR": "panjereh.identity.oidc.generate_token",
    "REFRESH_TOKEN_GENERATOR": "panjereh.identity.oidc.generate_token",
    "SCOPES_BACKEND_CLASS": "panjereh.identity.oidc.ClientScopes",
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Name",
        "phone": "Mobile number",
        "national_code": "National code",
        # Only the window's own mobile app may ask for it (identity.oidc.ClientScopes).
        "citizen": "Your applications, mailbox, documents and appointments",
    },
    "DEFAULT_SCOPES": ["openid"],
    "REQUEST_APPROVAL_PROMPT": "force",
}
# Agency windows are told of a sign-out within this many seconds or not at all.
PANJEREH_BACKCHANNEL_TIMEOUT = env("PANJEREH_BACKCHANNEL_TIMEOUT", 3.0)
# Email (the inbox's alerts) goes through Django's mail backends: SMTP in production, files
# under VAR_DIR/mail in the demo (the tests use locmem). SMS goes through
# panjereh.common.messaging (PANJEREH_SMS_PROVIDER).
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if MODE == "production"
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "webmaster@localhost")

# Smart services: background work through Celery when a broker is configured (production);
# otherwise the in-process worker (`panjereh worker`) runs the same task functions.
# A task is acknowledged once it has run (acks_late), and a task whose worker died is given to
# another worker (reject_on_worker_lost): every task is idempotent, so work a killed worker
# left is finished once. Redis hands an unacknowledged task out again after the visibility
# timeout (an hour unless configured).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "") or env("REDIS_URL", "")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
_visibility = env("PANJEREH_CELERY_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility,
    # Workers look for tasks a dead worker left about ten times per visibility timeout.
    "unacked_restore_interval": max(1, _visibility // 10),
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The tests choose Celery explicitly (tests/celery_fixtures.py): the rest of the PostgreSQL run
# has a broker but no worker.
PANJEREH_TASKS = env(
    "PANJEREH_TASKS", "celery" if CELERY_BROKER_URL and MODE != "test" else "inprocess"
)
# Background sealing of the exchange log (exchange.conf's SEAL_INTERVAL): off in the tests and
# the processes they start (PANJEREH_MODE=test), which seal explicitly; a sealer thread would
# race them.
if MODE == "test":
    PANJEREH_EXCHANGE_SEAL_INTERVAL = env("PANJEREH_EXCHANGE_SEAL_INTERVAL", 0.0)
