"""Huashen's one settings module.

Nothing set: the embedded shape (SQLite, in-memory channel layer, the local executor) that `make run`
serves. `DATABASE_URL`, `REDIS_URL`, `SECRET_KEY` (or `SECRET_KEY_FILE`) and `ALLOWED_HOSTS` switch to the
distributed shape: PostgreSQL, Redis as Celery broker and channel layer, grader workers behind Celery.
Every variable is read through the typed helpers in `huashen.env`, which fail with the variable's name.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from huashen.env import database_from_url, env_bool, env_choice, env_int, env_list, env_str
from workers.logs import LOG_FORMATS, logging_config

BASE_DIR = Path(__file__).resolve().parents[2]
PLATFORM_DIR = BASE_DIR / "platform"
VAR_DIR = Path(env_str("HUASHEN_VAR_DIR") or BASE_DIR / "var")

# --- Security -------------------------------------------------------------------------------------
DEVELOPMENT_SECRET_KEY = "huashen-development-key-never-use-in-production"  # noqa: S105
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "DEBUG=0 needs a SECRET_KEY (or SECRET_KEY_FILE): refusing the development key"
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
CSRF_FAILURE_VIEW = "huashen.web.error_pages.csrf_failure"
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (docker/nginx.conf does), set this so
# Django knows a request came over https: LTI's redirect URI and its SameSite=None; Secure state cookie
# depend on it. Only where the proxy overwrites the header a client sends.
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Applications ---------------------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "huashen.accounts",
    "huashen.curriculum",
    "huashen.grading",
    "huashen.api",
    "huashen.web",
    "huashen.practice",
    "huashen.teaching",
    "huashen.curves",
    "lti_tool",  # django-lti: LMS registrations, deployments, keys, launch data
    "huashen.lti",
    "huashen.similarity",
]

MIDDLEWARE = [
    "huashen.ops.observability.RequestIdMiddleware",  # first: every log line of the request carries its id
    "huashen.ops.observability.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "huashen.accounts.middleware.UserLanguageMiddleware",
    "huashen.accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "huashen.urls"
ASGI_APPLICATION = "huashen.asgi.application"
WSGI_APPLICATION = "huashen.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:realm-map"
LOGOUT_REDIRECT_URL = "web:login"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PLATFORM_DIR / "huashen" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data -----------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded SQLite file lives here
DATABASES = {
    "default": database_from_url(DATABASE_URL)
    if DATABASE_URL
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "huashen.sqlite3",
        # Embedded mode writes from the web loop and the local grader's threads at once: a transaction
        # that reads before it writes would otherwise fail with "database is locked" instead of waiting.
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Grading --------------------------------------------------------------------------------------
# `local` runs the grader inside the web process (embedded); `celery` sends GradeRequests to graders.
HUASHEN_EXECUTOR = env_choice("HUASHEN_EXECUTOR", "celery" if REDIS_URL else "local", ("local", "celery"))
EXERCISES_DIR = Path(env_str("HUASHEN_EXERCISES_DIR") or BASE_DIR / "exercises")
SUBMISSION_MAX_BYTES = env_int("SUBMISSION_MAX_BYTES", 64 * 1024, minimum=1)
SUBMISSIONS_PER_MINUTE = env_int("SUBMISSIONS_PER_MINUTE", 10, minimum=1)
# The Try cell (huashen.grading.scratch): its own limit per user and minute, and its snippet's size.
TRIES_PER_MINUTE = env_int("TRIES_PER_MINUTE", 20, minimum=1)
TRY_SNIPPET_MAX_BYTES = env_int("TRY_SNIPPET_MAX_BYTES", 16 * 1024, minimum=1)
# The coach's analyses per user and minute: the editor asks about once a second of typing (debounced).
COACH_ANALYSES_PER_MINUTE = env_int("COACH_ANALYSES_PER_MINUTE", 90, minimum=1)
# A realm opens when the previous one has at least this many trials passed; realm 1 is always open.
REALM_UNLOCK_PASSES = env_int("REALM_UNLOCK_PASSES", 3, minimum=0)
# Grading deadline beyond the trial's own wall-clock limit before the reaper may fail a submission.
GRADING_GRACE_SECONDS = env_int("GRADING_GRACE_SECONDS", 120, minimum=1)
GRADING_HARD_LIMIT_SECONDS = env_int("GRADING_HARD_LIMIT_SECONDS", 900, minimum=1)
# Embedded mode: how many submissions the in-process executor grades at once (the rest wait in order).
LOCAL_GRADER_CONCURRENCY = env_int("LOCAL_GRADER_CONCURRENCY", 1, minimum=1)
# Start the embedded grader (and its warm pool, as root) with the web server instead of at the first
# submission: `make run` sets it, so a newcomer's first Submit does not pay for the pool's start.
LOCAL_GRADER_START = env_bool("LOCAL_GRADER_START", False)
# A sync that gives a trial that trains a new version queues a run of its reference solution (distributed
# graders only, at a regrade's priority) and stores its curve with the version (huashen.curves.runs).
REFERENCE_RUNS_AT_SYNC = env_bool("REFERENCE_RUNS_AT_SYNC", True)
# A finished Submit is compared with its cohorts' other students' (huashen.similarity); 0 turns that off
# (a scan from the instructors' page still works).
SIMILARITY_ON_SUBMIT = env_bool("SIMILARITY_ON_SUBMIT", True)
# How long a cohort's median curve is kept (it is also forgotten at once when a run of its trial passes);
# 0: computed on every request.
COHORT_CURVE_CACHE_SECONDS = env_int("COHORT_CURVE_CACHE_SECONDS", 3600, minimum=0)
# How often the reaper sweeps (Celery beat on the platform worker; a thread in embedded mode).
GRADING_REAP_INTERVAL_SECONDS = env_int("GRADING_REAP_INTERVAL_SECONDS", 60, minimum=1)
# How long the platform worker keeps retrying one delivery of a result (or a "running" note) through a
# database or Redis outage before it puts the message back on its queue for later (never drops it).
GRADING_RECORD_PATIENCE_SECONDS = env_int("GRADING_RECORD_PATIENCE_SECONDS", 60, minimum=0)
# How often the outbox sweep hands over submissions whose on-commit send failed (a broker outage).
GRADING_DISPATCH_SWEEP_SECONDS = env_int("GRADING_DISPATCH_SWEEP_SECONDS", 10, minimum=1)
# WebSockets: one reader per process for every followed stream (0: each socket reads its own, the old
# path kept as the benchmark's baseline); how long a handshake's token, session and access lookups are
# reused, which is also how soon a revoked token closes its open sockets (0: no cache).
WS_STREAM_HUB = env_bool("WS_STREAM_HUB", True)
WS_AUTH_CACHE_SECONDS = env_int("WS_AUTH_CACHE_SECONDS", 5, minimum=0)
# Under daphne, a socket with nothing buffered sends what it is given at once (huashen.daphne_writes).
DAPHNE_WRITE_THROUGH = env_bool("DAPHNE_WRITE_THROUGH", True)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Redis redelivers an unacknowledged task only after the visibility timeout: just above the hard limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": GRADING_HARD_LIMIT_SECONDS + 60}
# Beat runs embedded in the platform worker (`celery -A huashen worker -Q platform -B`): one such worker.
# The reaper is idempotent, so a second beat costs a few queries, not a wrong result.
CELERY_BEAT_SCHEDULE = {
    "reap-stuck-submissions": {
        "task": "huashen.reap",
        "schedule": float(GRADING_REAP_INTERVAL_SECONDS),
        "options": {"queue": "platform", "expires": GRADING_REAP_INTERVAL_SECONDS},
    },
    "send-the-outbox": {
        "task": "huashen.dispatch_sweep",
        "schedule": float(GRADING_DISPATCH_SWEEP_SECONDS),
        "options": {"queue": "platform", "expires": GRADING_DISPATCH_SWEEP_SECONDS},
    },
    "send-stranded-lti-scores": {
        "task": "huashen.lti_sweep_scores",
        "schedule": 60.0,
        "options": {"queue": "platform", "expires": 60},
    },
}

# --- LTI 1.3 (huashen.lti) -----------------------------------------------------------------------
# The session cookie stays SameSite=Lax and pages refuse frames: a launch inside an LMS frame opens
# Huashen in its own window (huashen.lti.views). A retired signing key stays in the JWKS this long after
# its successor appeared; scores to an LMS retry with backoff from the base, this many times.
LTI_KEY_GRACE_DAYS = env_int("LTI_KEY_GRACE_DAYS", 7, minimum=0)
LTI_SCORE_RETRY_BASE_SECONDS = env_int("LTI_SCORE_RETRY_BASE_SECONDS", 30, minimum=1)
LTI_SCORE_MAX_RETRIES = env_int("LTI_SCORE_MAX_RETRIES", 8, minimum=0)

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an unauthenticated call answers 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "huashen.api.authentication.LanguageTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: one body format to document, validate and fuzz (forms post to the pages, not the API).
    "DEFAULT_PARSER_CLASSES": ["huashen.api.inputs.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "huashen.api.schema.AutoSchema",  # documents the error bodies too
    "DEFAULT_PAGINATION_CLASS": "huashen.api.pagination.Pagination",
    "EXCEPTION_HANDLER": "huashen.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Huashen API",
    "DESCRIPTION": "化神 Huashen: trials, submissions and progress.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # A submission's mode (run, submit, try) and what the submissions endpoint takes (run or submit).
    "ENUM_NAME_OVERRIDES": {
        "ModeEnum": "huashen.grading.models.Mode",
        "RunOrSubmitEnum": "huashen.grading.models.run_or_submit_choices",
    },
}

# --- Languages ------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PLATFORM_DIR / "huashen" / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE") or "Asia/Shanghai"
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"  # filled by collectstatic in production images
# Without a collectstatic run (make run, tests) WhiteNoise serves straight from the finders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [PLATFORM_DIR / "huashen" / "static"]
# The Vite build; HUASHEN_FRONTEND_DIST serves a copy instead (the browser tests pin the bundle they start with).
FRONTEND_DIST = Path(env_str("HUASHEN_FRONTEND_DIST") or BASE_DIR / "frontend" / "dist")
if FRONTEND_DIST.is_dir():
    STATICFILES_DIRS.append(FRONTEND_DIST)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Operations -----------------------------------------------------------------------------------
# One JSON object per line with the request id (workers.logs) in the distributed shape; text for make run.
LOG_FORMAT = env_choice("LOG_FORMAT", "json" if REDIS_URL else "text", LOG_FORMATS)
LOGGING = logging_config(log_format=LOG_FORMAT, level=env_str("LOG_LEVEL") or "INFO")
LOGGING["loggers"] = {"django.db.backends": {"level": "INFO"}}
# The platform worker keeps these handlers instead of Celery's own (see huashen.celery).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# /metrics answers staff sessions and `Authorization: Bearer <METRICS_TOKEN>` (or METRICS_TOKEN_FILE).
METRICS_TOKEN = env_str("METRICS_TOKEN") or ""
# /readyz: every one of these queues needs a grader whose heartbeat is younger than the max age.
READY_REQUIRED_QUEUES = env_list("READY_REQUIRED_QUEUES", ["cpu"])
READY_GRADER_MAX_AGE_SECONDS = env_int("READY_GRADER_MAX_AGE_SECONDS", 60, minimum=1)
