"""Slate settings: one file, every production value from the environment.

With no environment set, this is the embedded default: SQLite and media under
``var/``, an in-memory channel layer, the task worker inside the server process
and the local animatic renderer. Scale-out: DATABASE_URL, REDIS_URL.
"""

import os
import secrets
import time
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


VAR_DIR = Path(env_str("SLATE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    # A fresh install must not share a key with every other install: make one
    # on first start and keep it beside the database.
    if key := env_str("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    try:
        # Exclusive create, private from the first byte: `serve` and `worker`
        # starting together must end up with one key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    for _ in range(50):  # the other process may still be writing it
        if key := path.read_text().strip():
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it and start again")


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "django_tasks_db",
    "studio",
    "library",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "studio.middleware.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "studio.urls"
ASGI_APPLICATION = "studio.asgi.application"

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
                "studio.context_processors.workspaces",
            ],
        },
    },
]

if database_url := env_str("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "slate.sqlite3",
            "OPTIONS": {
                # WAL lets the page read while the worker writes progress;
                # IMMEDIATE takes the write lock up front so concurrent
                # transactions wait (busy timeout) instead of failing to upgrade.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "studio.layers.ThreadSafeInMemoryChannelLayer"}}

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# The embedded default runs the task worker inside `manage.py serve`; turn it
# off when separate `manage.py worker` processes do the work.
SLATE_EMBEDDED_WORKER = env_bool("SLATE_EMBEDDED_WORKER", True)
# A take's worker renews its lease while it works; a take whose lease ran out
# belongs to a dead worker and is picked up again by the sweep.
SLATE_LEASE_SECONDS = env_float("SLATE_LEASE_SECONDS", 30.0)
SLATE_SWEEP_SECONDS = env_float("SLATE_SWEEP_SECONDS", 10.0)
SLATE_MAX_ATTEMPTS = env_int("SLATE_MAX_ATTEMPTS", 3)
# Bigger uploads are skipped while they stream in (the limits: studio/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "studio.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
SLATE_WORKER_POLL_SECONDS = env_float("SLATE_WORKER_POLL_SECONDS", 0.25)
# This studio's address as providers see it (https://studio.example.com): needed for
# providers that take a webhook URL with each job (fal, OpenRouter).
SLATE_PUBLIC_URL = env_str("SLATE_PUBLIC_URL")
# How long a worker follows one take's live events (ComfyUI's websocket) before it lets
# other takes have a turn.
SLATE_WATCH_SECONDS = env_float("SLATE_WATCH_SECONDS", 20.0)
# fal signs webhooks with the keys it publishes here (cached for at most a day).
SLATE_FAL_JWKS_URL = env_str("SLATE_FAL_JWKS_URL", "https://rest.fal.ai/.well-known/jwks.json")
SLATE_FAL_JWKS_TTL = env_float("SLATE_FAL_JWKS_TTL", 24 * 3600.0)
# Seconds a provider request may take before it counts as unanswered.
SLATE_PROVIDER_TIMEOUT = env_float("SLATE_PROVIDER_TIMEOUT", 30.0)
# Providers on private networks (your own GPU, a LAN gateway) and over plain http:
# "local" (default) only for the install's Local studio (the first account's, the CLI's);
# true for every workspace (only your team signs up); false for none (docs/security.md).
_private_providers = env_str("SLATE_ALLOW_PRIVATE_PROVIDERS", "local").strip().lower()
SLATE_ALLOW_PRIVATE_PROVIDERS = (
    "local" if _private_providers == "local" else _private_providers in {"1", "true", "yes", "on"}
)
# Providers state their limits per minute; tests shrink the window to run quickly.
SLATE_RATE_WINDOW_SECONDS = env_float("SLATE_RATE_WINDOW_SECONDS", 60.0)

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
SCRATCH_DIR = VAR_DIR / "scratch"
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Media is private: it is served by views that check membership, so the media
# storage's MEDIA_URL is never routed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve straight from the source folders: no collectstatic step on a fresh clone.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Anyone who can reach the studio may sign up, unless this is false (then only
# the first account can be made here; more with `createsuperuser` or the admin).
SLATE_OPEN_SIGNUP = env_bool("SLATE_OPEN_SIGNUP", True)
# Encrypts provider API keys and webhook secrets at rest (a Fernet key); derived
# from SECRET_KEY when unset.
SLATE_SECRETS_KEY = env_str("SLATE_SECRETS_KEY")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "media-src": [CSP.SELF, "blob:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "studio": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING"},
    },
}

# The most bytes one provider download may write, whatever the model (a provider that
# streams more is cut off there and the take fails; see docs/security.md).
SLATE_MAX_DOWNLOAD_BYTES = env_int("SLATE_MAX_DOWNLOAD_BYTES", 2 * 1024**3)
