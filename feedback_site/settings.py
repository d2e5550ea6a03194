"""Settings for feedback_site, read from environment variables only.

The defaults give a working local run (SQLite, LocalStack on 127.0.0.1:4566);
production differs only by environment values. See README.md for the table.
"""

import importlib.util
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from feedback_site.aws import boto_config
from feedback_site.env import cache_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A public development key signs sessions and tokens anyone could forge.
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`; only DEBUG=true "
            "runs on the public development key."
        )
    SECRET_KEY = "dev-insecure-change-me-7c1f0b8e2d9a4e36b5f0c8a1d2e3f4a5"  # noqa: S105 (DEBUG only, public on purpose)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_dramatiq",
    "django_htmx",
    "submissions",
    "scoring",
    "jobs",
    # The project package's own migrations (the cache table).
    "feedback_site",
]

MIDDLEWARE = [
    # First: every later middleware and view logs with the request id, and is timed.
    "feedback_site.request_id.RequestIdMiddleware",
    "feedback_site.metrics.RequestMetricsMiddleware",
    # Under /api/, every 4xx in the API's error format (with DEBUG on too).
    "feedback_site.api.middleware.ApiErrorFormatMiddleware",
    # A database outage answers 503 with Retry-After (API format under /api/).
    "feedback_site.database_outage.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # request.htmx: the learner pages answer htmx requests with partials.
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "feedback_site.urls"
WSGI_APPLICATION = "feedback_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite is the embedded default for `make run`; tests and production use
# PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker threads write concurrently: wait for the lock instead of
    # failing, and take it at BEGIN so a read never has to be upgraded.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # An unreachable server fails a request in seconds (a 503, see
    # feedback_site/database_outage.py) instead of hanging it on the kernel's timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 5, minimum=1, maximum=120))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -----------------------------------------------------------------
# The API throttles count here, so the cache must be shared by every web
# process (gunicorn's workers, several hosts): by default a table in the
# database above (feedback_site/migrations creates it); CACHE_URL selects
# Redis or Memcached instead (see feedback_site.env.cache_from_url).
CACHES = {"default": cache_from_url("CACHE_URL", default_table="feedback_cache")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# --- Sign-in protection (django-axes) ---------------------------------------
# Failed sign-ins through any path (the login page, the admin's, the API token
# endpoint) are recorded in the database; after SIGNIN_FAILURE_LIMIT failures
# for one username, or from one address, that username / address is refused
# (429 with Retry-After) for SIGNIN_LOCKOUT_MINUTES; a success resets its count.
# Staff see and clear lock-outs in the admin (Axes: access attempts).
# Behind a proxy set NUM_PROXIES (below), or every client shares the proxy's
# address and one attacker locks everyone out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 10, minimum=1, maximum=1000)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_MINUTES", 15, minimum=1, maximum=7 * 24 * 60))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "feedback_site.signin.client_address"
AXES_LOCKOUT_CALLABLE = "feedback_site.signin.lockout_response"
# Successful sign-ins are not logged row by row (the API token endpoint is
# called by every client); failures are, in the attempts table.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "submissions:assignment_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# --- AWS: S3 and SQS --------------------------------------------------------
# An empty AWS_ENDPOINT_URL means real AWS; the default is the local LocalStack.
AWS_ENDPOINT_URL = env_str("AWS_ENDPOINT_URL", "http://127.0.0.1:4566") or None
AWS_REGION = env_str("AWS_REGION", "us-east-1")
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID", "test") or None
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY", "test") or None
S3_BUCKET = env_str("S3_BUCKET", "feedback-site-files")
S3_CORS_ORIGINS = env_list("S3_CORS_ORIGINS", ["http://127.0.0.1:8000", "http://localhost:8000"])
S3_PRESIGNED_EXPIRY_SECONDS = env_int("S3_PRESIGNED_EXPIRY_SECONDS", 300, minimum=1, maximum=3600)
# How long one request may spend verifying an upload (reading it back from S3)
# before another may take the verification over (the first one crashed).
UPLOAD_VERIFY_LEASE_SECONDS = env_int("UPLOAD_VERIFY_LEASE_SECONDS", 120, minimum=5, maximum=3600)

STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": AWS_ENDPOINT_URL,
            "region_name": AWS_REGION,
            "access_key": AWS_ACCESS_KEY_ID,
            "secret_key": AWS_SECRET_ACCESS_KEY,
            # Private objects, never overwritten, reached only through
            # short-lived signed URLs.
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": S3_PRESIGNED_EXPIRY_SECONDS,
            # The client options every boto3 client of the project uses
            # (timeouts, retries, s3v4, path-style addressing for LocalStack and AWS).
            "client_config": boto_config(),
        },
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SQS_QUEUE_PREFIX = env_str("SQS_QUEUE_PREFIX", "feedback")
# How long a received message stays invisible before SQS hands it to another
# worker. The dramatiq-sqs default is 12 hours; a killed worker's job must come
# back within about a minute.
SQS_VISIBILITY_TIMEOUT = env_int("SQS_VISIBILITY_TIMEOUT", 60, minimum=5, maximum=43200)
# Receives before SQS moves a message to the dead-letter queue.
SQS_MAX_RECEIVE_COUNT = env_int("SQS_MAX_RECEIVE_COUNT", 5, minimum=1, maximum=1000)

WORKER_PROCESSES = env_int("WORKER_PROCESSES", 1, minimum=1)
WORKER_THREADS = env_int("WORKER_THREADS", 4, minimum=1)
# runworkers' watchdog (jobs/supervisor.py): a worker silent this long is
# killed and replaced; one booted spare takes over a lost worker at once.
WORKER_STANDBY = env_bool("WORKER_STANDBY", True)
WORKER_STALL_SECONDS = env_int("WORKER_STALL_SECONDS", 30, minimum=3, maximum=3600)
WORKER_START_TIMEOUT_SECONDS = env_int("WORKER_START_TIMEOUT_SECONDS", 120, minimum=5, maximum=3600)
# On SIGTERM, jobs in hand get this long to finish; past it their leases lapse
# and the relay hands them to another worker.
WORKER_SHUTDOWN_SECONDS = env_int("WORKER_SHUTDOWN_SECONDS", 30, minimum=1, maximum=3600)

DRAMATIQ_BROKER = {
    "BROKER": "feedback_site.broker.Broker",
    "OPTIONS": {},
    # Listed explicitly: django-dramatiq's default names a middleware that
    # dramatiq 2.x no longer has.
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.ShutdownNotifications",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Pipelines",
        "feedback_site.broker.BoundedRetries",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
    ],
}
DRAMATIQ_AUTODISCOVER_MODULES = ["actors"]
# django-dramatiq's own housekeeping actor lives on the "default" queue, which
# we do not run; its Task table is not used either.
DRAMATIQ_IGNORED_MODULES = ["django_dramatiq.tasks"]

# --- Scoring pipeline (jobs) ----------------------------------------------------
SCORING_MAX_ATTEMPTS = env_int("SCORING_MAX_ATTEMPTS", 3, minimum=1, maximum=20)
# A worker holds a job under a lease that its heartbeat renews; a worker that
# dies stops renewing, and the relay hands the job to another worker.
SCORING_LEASE_SECONDS = env_int("SCORING_LEASE_SECONDS", 30, minimum=5, maximum=3600)
SCORING_HEARTBEAT_SECONDS = env_int("SCORING_HEARTBEAT_SECONDS", 10, minimum=1, maximum=1200)
if SCORING_HEARTBEAT_SECONDS * 2 > SCORING_LEASE_SECONDS:
    # A lease renewed less often than twice per lifetime lapses under a live worker.
    raise ImproperlyConfigured(
        f"SCORING_HEARTBEAT_SECONDS={SCORING_HEARTBEAT_SECONDS} must be at most half of "
        f"SCORING_LEASE_SECONDS={SCORING_LEASE_SECONDS}"
    )
# Exponential backoff with jitter between tries; SQS delays stop at 900 s.
SCORING_RETRY_BASE_SECONDS = env_int("SCORING_RETRY_BASE_SECONDS", 2, minimum=1, maximum=900)
SCORING_RETRY_MAX_SECONDS = env_int("SCORING_RETRY_MAX_SECONDS", 300, minimum=1, maximum=900)
RELAY_INTERVAL_SECONDS = env_int("RELAY_INTERVAL_SECONDS", 2, minimum=1, maximum=300)
# A QUEUED job whose message should have been delivered this long ago is sent again.
RELAY_REDISPATCH_AFTER_SECONDS = env_int("RELAY_REDISPATCH_AFTER_SECONDS", 300, minimum=10)
RELAY_BATCH_SIZE = env_int("RELAY_BATCH_SIZE", 500, minimum=1, maximum=10000)

# --- Periodic maintenance, run inside the relay (jobs/maintenance.py) -------
# Seconds between runs of each task; 0 turns a task off (for a site that runs
# the matching management command from its own scheduler instead).
# Check (and re-create or put right) the S3 bucket and the SQS queues.
MAINTENANCE_AWS_CHECK_SECONDS = env_int("MAINTENANCE_AWS_CHECK_SECONDS", 60, minimum=0, maximum=86400)
# Delete idempotency keys past their 24-hour lifetime (manage.py purge_idempotency_keys).
MAINTENANCE_IDEMPOTENCY_PURGE_SECONDS = env_int("MAINTENANCE_IDEMPOTENCY_PURGE_SECONDS", 3600, minimum=0)
# Retry S3 deletions that failed when a file was removed (manage.py purge_deleted_files).
MAINTENANCE_DELETED_FILES_SECONDS = env_int("MAINTENANCE_DELETED_FILES_SECONDS", 300, minimum=0)
# Reject uploads left PENDING for UPLOAD_ABANDONED_AFTER_SECONDS (manage.py expire_abandoned_uploads).
MAINTENANCE_ABANDONED_UPLOADS_SECONDS = env_int("MAINTENANCE_ABANDONED_UPLOADS_SECONDS", 600, minimum=0)
# A day: by then the bucket's lifecycle rule has removed the incoming object,
# so completing the upload could only fail.
UPLOAD_ABANDONED_AFTER_SECONDS = env_int("UPLOAD_ABANDONED_AFTER_SECONDS", 86400, minimum=3600)

# --- Scoring engine ---------------------------------------------------------
# Dotted path of the Scorer class; the default is the static-analysis engine
# (deterministic, no network). A wrong path fails `manage.py check` (scoring.E001).
SCORER = env_str("SCORER", "scoring.scorers.EngineScorer")
# Each run happens in a child process under these limits (scoring/sandbox.py);
# a run that overruns one ends the job in ERROR (scoring_timeout,
# scoring_memory) with advice for the learner, without retries.
SCORING_TIME_LIMIT_SECONDS = env_int("SCORING_TIME_LIMIT_SECONDS", 60, minimum=1, maximum=3600)
SCORING_CPU_LIMIT_SECONDS = env_int("SCORING_CPU_LIMIT_SECONDS", 30, minimum=1, maximum=3600)
SCORING_MEMORY_LIMIT_MB = env_int("SCORING_MEMORY_LIMIT_MB", 1024, minimum=64, maximum=65536)

# --- Learner pages and uploads ------------------------------------------------
# Project-wide static files (vendored htmx, the editor and upload scripts, CSS);
# no page loads anything from another origin.
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- REST API and HTTP hardening --------------------------------------------
INSTALLED_APPS += ["rest_framework.authtoken", "drf_spectacular", "idempotency"]
# Swagger UI's assets served from this site when drf-spectacular-sidecar is
# installed; without it /api/docs lists the operations itself (never a CDN).
SWAGGER_UI_LOCAL = importlib.util.find_spec("drf_spectacular_sidecar") is not None
if SWAGGER_UI_LOCAL:
    INSTALLED_APPS += ["drf_spectacular_sidecar"]


def _throttle_rate(value: str) -> str:
    # DRF reads "number/period" only when a request arrives: fail at start instead.
    if not re.fullmatch(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)", value.strip()):
        raise ImproperlyConfigured(f"throttle rate {value!r} is not like 60/minute (periods: second/minute/hour/day)")
    return value.strip()


_WRITE_RATE = _throttle_rate(env_str("API_THROTTLE_WRITE_RATE", "120/minute"))
# Read by feedback_site.api.throttles at request time. "user" counts every
# request of a signed-in user; each write endpoint has its own per-user scope.
API_THROTTLE_RATES = {
    "anon": _throttle_rate(env_str("API_THROTTLE_ANON_RATE", "60/minute")),
    "user": _throttle_rate(env_str("API_THROTTLE_USER_RATE", "1200/minute")),
    "token_obtain": _throttle_rate(env_str("API_THROTTLE_AUTH_RATE", "10/minute")),
    "token_obtain_username": _throttle_rate(env_str("API_THROTTLE_AUTH_USERNAME_RATE", "10/minute")),
    **{
        scope: _WRITE_RATE
        for scope in ("submission_create", "submission_update", "submission_submit", "file_upload",
                      "scoring_request", "staff_action")
    },
}

# How long each process remembers a token's user (0: look it up on every
# request). A token deleted or a user deactivated elsewhere is accepted by
# other processes for up to this long (feedback_site/api/authentication.py).
API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 10, minimum=0, maximum=300)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's, with each token's user remembered for API_TOKEN_CACHE_SECONDS.
        "feedback_site.api.authentication.RememberingTokenAuthentication",
        # Enforces CSRF on unsafe methods, as the browser pages do.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["feedback_site.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Every limit of a request (user or address, and the endpoint's scope) in one cache round trip.
    "DEFAULT_THROTTLE_CLASSES": ["feedback_site.api.throttles.RequestRateLimit"],
    "DEFAULT_PAGINATION_CLASS": "feedback_site.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "feedback_site.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # How many proxies in front of the app append to X-Forwarded-For. With 0 the
    # throttles key on the connection's address and ignore the header, which a
    # client could otherwise change on every try (e.g. to guess passwords).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0, maximum=10),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "feedback_site API",
    "DESCRIPTION": (
        "Submissions, their scoring jobs and feedback. Authenticate with `Authorization: Token <token>` "
        "(POST /api/auth/token) or a session (unsafe methods then need the CSRF token). Every 4xx answers "
        '`{"error": {"code", "message", "fields"}}`. POSTs accept an `Idempotency-Key` header.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["feedback_site.api.schema.drop_trailing_slash_twins"],
    "ENUM_NAME_OVERRIDES": {
        "SubmissionStatusEnum": "submissions.models.Submission.Status",
        "ScoringJobStatusEnum": "jobs.models.ScoringJob.Status",
        "RequestedByEnum": "jobs.models.ScoringJob.RequestedBy",
    },
    **({"SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR"} if SWAGGER_UI_LOCAL else {}),
    # Swagger UI would otherwise show a badge from validator.swagger.io, sending
    # it the schema's URL: the docs page loads nothing from other sites.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# Bodies larger than this are refused (413 in the API, 400 on pages); the
# API's JSON parser applies it too, as DRF bypasses Django's own check.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_BODY_BYTES", 2_621_440, minimum=1024)

# HTTPS=true when the site is served over TLS (directly or behind a proxy):
# secure cookies, HTTP→HTTPS redirect, HSTS. Off by default so local http
# runs and tests work; production turns it on.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# Load balancers probe over plain http.
SECURE_REDIRECT_EXEMPT = [r"^health(/ready)?/?$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets this header itself and strips the client's.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# One JSON object per line (LOG_FORMAT=console: readable lines), rendered by
# structlog for every logger, with the request id and job id bound in context
# (see feedback_site/logging.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {"()": "feedback_site.logging.structured_formatter", "renderer": env_str("LOG_FORMAT", "json")},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

# --- Observability ------------------------------------------------------------
# /metrics (Prometheus) is open when DEBUG; otherwise it needs
# "Authorization: Bearer <METRICS_TOKEN>" or a signed-in staff user. Empty: staff only.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Collectors read at each scrape, besides the web's request counts (code, not configuration).
METRICS_COLLECTORS = ["jobs.metrics.JobsCollector", "jobs.metrics.QueueCollector"]
# A directory shared by the web's processes (gunicorn workers) for
# prometheus_client's multiprocess mode; prometheus_client reads the variable
# itself. Empty: each process exposes only its own request metrics (fine for
# one process). Job and queue metrics come from the database and SQS either way.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")
