"""Settings, all from the environment (django-environ).

Embedded default (no variables set): SQLite under var/, Celery tasks run eagerly in-process, DEBUG on,
2FA off — what `make demo` uses. Production: DJANGO_ENV=production plus DATABASE_URL, REDIS_URL,
DJANGO_SECRET_KEY, PII_HASH_KEY and DJANGO_ALLOWED_HOSTS (see README).
"""

import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env") if (BASE_DIR / ".env").exists() else None

PRODUCTION = env.str("DJANGO_ENV", default="development") == "production"
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
# The development key only ever signs demo sessions; production refuses to start without its own.
SECRET_KEY = (
    env.str("DJANGO_SECRET_KEY")
    if PRODUCTION
    else env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production-4f7c2a9e1b")
)
# Key of the HMAC that replaces natural persons' ID numbers (guarantees/identifiers.py). Separate from
# SECRET_KEY and never rotated: a new key cannot re-hash numbers the portal never stored, so borrowers
# would no longer group across institutions. Development derives one from the development SECRET_KEY.
PII_HASH_KEY = (
    env.str("PII_HASH_KEY")
    if PRODUCTION
    else env.str("PII_HASH_KEY", default=hashlib.sha256(b"pii-hash-key:" + SECRET_KEY.encode()).hexdigest())
)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "core",
    "accounts",
    "institutions",
    "guarantees",
    "reporting",
    "supervision",
    "subsidies",
    "guarantee_portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.UploadLimitMiddleware",  # before CSRF, whose check reads the POST body
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "core.middleware.ExportAuditMiddleware",  # every download (exports, templates) is an audit event
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.middleware.AppErrorMiddleware",  # an AppError escaping a page view: its status and message
]

ROOT_URLCONF = "guarantee_portal.urls"
WSGI_APPLICATION = "guarantee_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60 if PRODUCTION else 0)
# A persistent connection that died with a database restart is replaced instead of failing a request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PortalBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.CharacterClassValidator"},
]
# Argon2id first (memory-hard: costly on an attacker's GPU, and half the server CPU per login of
# PBKDF2's million iterations); PBKDF2 hashes still verify and are re-hashed at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions end after 30 idle minutes and with the browser; activity renews the expiry at most once a
# minute (accounts.middleware.IdleSessionMiddleware), not with a database write on every request.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_SECONDS", default=30 * 60)
SESSION_RENEW_SECONDS = env.int("DJANGO_SESSION_RENEW_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Failed-login throttling: 5 failures for a username from one address lock it for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Regulators and finance officers must pass a TOTP second factor when this is on.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=PRODUCTION)
OTP_TOTP_ISSUER = "担保监管服务平台"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it even before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Uploads. core.middleware.UploadLimitMiddleware refuses (413) a request body above its view's limit by
# Content-Length, before anything reads it: a view taking spreadsheets names its channel
# (core.excel.upload_channel) and gets that channel's `bytes`; every other request UPLOAD_MAX_BYTES.
# The guarded reader (core.excel.read_upload) then applies the channel's other limits: the last row and
# column a sheet may address, zip entries, total uncompressed bytes, compression ratio of an entry.
MIB = 1024 * 1024
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * MIB)
# Data rows one sheet of a loan-level batch may hold; a larger file is refused before it is parsed.
GUARANTEE_UPLOAD_MAX_ROWS = env.int("GUARANTEE_UPLOAD_MAX_ROWS", default=500_000)
# A reviewer's claim on a submitted filing lapses after this many minutes without activity on it.
REVIEW_CLAIM_IDLE_MINUTES = env.int("REVIEW_CLAIM_IDLE_MINUTES", default=30)
# How often the page of a filing awaiting review asks whether it was decided (and then reloads).
FILING_POLL_SECONDS = env.int("FILING_POLL_SECONDS", default=15)
UPLOAD_LIMITS = {
    # one institution's quarterly report: 75 fields under an 8-row identity block, and the _meta sheet
    "quarterly": {"bytes": 5 * MIB, "rows": 500, "columns": 30, "entries": 100, "expanded_bytes": 30 * MIB},
    # a province's registry of institutions and licences (a few thousand rows per sheet)
    "registry": {
        "bytes": 20 * MIB,
        "rows": 20_000,
        "columns": 60,
        "entries": 100,
        "expanded_bytes": 100 * MIB,
    },
    # loan-level records: one row per guarantee, xlsx or CSV
    "guarantees": {
        "bytes": 100 * MIB,
        "rows": GUARANTEE_UPLOAD_MAX_ROWS + 1,  # the header row too
        "columns": 100,
        "entries": 100,
        "expanded_bytes": 1024 * MIB,
        "csv": True,
    },
    # a bank's 总对总 batch, uploaded by a regulator: one row per guarantee the bank holds, xlsx or CSV
    "bank_batch": {
        "bytes": 50 * MIB,
        "rows": 200_000,
        "columns": 30,
        "entries": 100,
        "expanded_bytes": 500 * MIB,
        "csv": True,
    },
}
# A registry workbook larger than this is imported by a background job (its size and zip directory are
# checked at once; the page lists the job); a smaller one at once, in the request.
REGISTRY_IMPORT_INLINE_BYTES = env.int("REGISTRY_IMPORT_INLINE_BYTES", default=1 * MIB)
DATA_UPLOAD_MAX_MEMORY_SIZE = int(2.5 * MIB)  # a request's fields other than files (forms, JSON bodies)
FILE_UPLOAD_MAX_MEMORY_SIZE = int(2.5 * MIB)  # a larger uploaded file is spooled to disk while it arrives

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="noreply@guarantee-portal.invalid")

# Celery: with REDIS_URL a real broker and workers; without it every task runs in-process at once.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # a host keeps kombu from warning it has none
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True  # job state lives in our own tables, not in a result backend
# Acks late and reject on worker lost are set per task, on the idempotent ones (core/jobs.py claims).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Jobs (core/jobs.py): the relay sends a job still queued JOB_RELAY_AFTER seconds after it was sent (the
# wait doubles with each send) and fails it after JOB_SEND_MAX_ATTEMPTS sends.
JOB_RELAY_AFTER = env.int("JOB_RELAY_AFTER", default=60)
JOB_SEND_MAX_ATTEMPTS = env.int("JOB_SEND_MAX_ATTEMPTS", default=10)
# The longest a task runs (a recompute part of 250 institutions or the region load take seconds). Redis
# hands an unacknowledged message to another worker after the visibility timeout: twice this, so a
# running task is never delivered twice (if it were, its claim would make the copy return).
JOB_LONGEST_TASK_SECONDS = env.int("JOB_LONGEST_TASK_SECONDS", default=600)
# A send fails fast when Redis is down or hangs, then the job waits queued for the relay (measured: a
# refused connection fails at once, a hung Redis after 2 s): connecting gives up after 1 s, a command
# after 2 s, and a failed publish is not retried here (the relay is the retry).
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * JOB_LONGEST_TASK_SECONDS,
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

REST_FRAMEWORK = {
    # a person's expiring token (first: a 401 names its scheme), a company's API key
    # (accounts/authentication.py), or the session
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ExpiringTokenAuthentication",
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every API view declares who may call it (core.permissions); one that does not is closed to all.
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.Undeclared"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    # JSON only: a form or multipart body is a 415 (core/parsers.py)
    "DEFAULT_PARSER_CLASSES": ["core.parsers.StrictJSONParser"],
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.openapi.ErrorDocumentingAutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": "10/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "担保监管服务平台 API",
    "DESCRIPTION": "Financing-guarantee supervision portal API. Field and indicator codes are the contract.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # one request content type per operation (JSON), so clients generated from the schema import
    "PARSER_WHITELIST": ["core.parsers.StrictJSONParser"],
    # The schema and its docs are for signed-in users (API clients sign in for a token anyway).
    "SERVE_PERMISSIONS": ["core.permissions.SignedInAPI"],
    # Redoc from our own static files (drf-spectacular-sidecar): a CDN is blocked by the CSP and out of reach.
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ErrorCodeEnum": "core.openapi.ERROR_CODES",
        "FilingStatusEnum": "reporting.choices.FilingStatus",
        "InstitutionStatusEnum": "institutions.choices.InstitutionStatus",
        "SubsidyStatusEnum": "subsidies.choices.Status",
        "SubsidySchemeKindEnum": "subsidies.choices.SchemeKind",
    },
}

# Content Security Policy: everything is served from this origin (vendored assets, no CDN).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.middleware.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP inside the network
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

PORTAL_NAME = _("担保监管服务平台")
ADMIN_URL = env.str("DJANGO_ADMIN_URL", default="admin/")

# --- Hardening (issue 14): client address, shared cache, tokens and keys, password reset -------------
# Reverse proxies in front of the app that append to X-Forwarded-For (0: none, the header is ignored).
# The login lockout and the token endpoint's throttle key on the address this yields (core/net.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
# One cache shared by every process (throttles, reset rate limits): Redis when REDIS_URL is set (a
# separate database number may be given by CACHE_URL), otherwise this process's memory. A Redis outage
# turns it into misses, not errors (core/cache.py).
CACHE_URL = env.str("CACHE_URL", default=REDIS_URL)
CACHES = {
    "default": (
        {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "gp",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# A person's API token (POST /api/v1/auth/token/) lasts this many hours; a new one replaces it at each
# token login, and it dies when the account is locked out or its password changes. Systems use a
# company's named API keys instead (accounts.ApiKey).
API_TOKEN_HOURS = env.int("API_TOKEN_HOURS", default=12)
# The first enrolment of a second factor needs a one-time code from an administrator, valid this long.
OTP_ENROLMENT_CODE_HOURS = env.int("OTP_ENROLMENT_CODE_HOURS", default=72)
# Password reset by mail: the link lasts this long; requests per hour from one address and for one mailbox.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_SECONDS", default=60 * 60)
PASSWORD_RESET_PER_HOUR = env.int("PASSWORD_RESET_PER_HOUR", default=5)
