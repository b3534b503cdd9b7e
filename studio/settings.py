"""Slate settings: one file, every production value from the environment.

With no environment set, this is the embedded default: SQLite and media under
``var/``, an in-memory channel layer, the task worker inside the server process
and the local animatic renderer. Scale-out: DATABASE_URL, REDIS_URL.
"""

import os
import secrets
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.utils.csp import CSP

from studio.uploads import MB, STREAM_CAP

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


def env_header(name: str) -> tuple[str, str] | None:
    """ "X-Forwarded-Proto: https" as Django's SECURE_PROXY_SSL_HEADER wants it."""
    header, _, value = env_str(name).partition(":")
    if not header.strip():
        return None
    return "HTTP_" + header.strip().upper().replace("-", "_"), value.strip()


def private(path: Path) -> None:
    """Make an existing file or folder the service user's alone (installs made before umask)."""
    try:
        path.chmod(0o700 if path.is_dir() else 0o600)
    except FileNotFoundError:
        pass
    except PermissionError:  # owned by someone else, who chose its mode
        pass


# The database holds session keys, and media and secrets are the studio's work: whatever Slate
# creates is readable by the service user only.
os.umask(0o077)
VAR_DIR = Path(env_str("SLATE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
private(VAR_DIR)


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
# A form from an old page goes back to that page with a message (studio/refused.py).
CSRF_FAILURE_VIEW = "studio.refused.csrf_failure"

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
    "axes",
    "studio",
    "library",
    "storyboard",
    "teams",
]

MIDDLEWARE = [
    "studio.middleware.RequestIdMiddleware",
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
    "studio.middleware.RefusedPostMiddleware",
    "studio.middleware.DatabaseBusyMiddleware",
    "axes.middleware.AxesMiddleware",
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
                "studio.context_processors.section",
                "teams.context_processors.bell",
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
            # Requests run on a few kept threads (studio.handler): each keeps its connection.
            "CONN_MAX_AGE": 600,
        }
    }
    for suffix in ("", "-wal", "-shm"):
        private(VAR_DIR / f"slate.sqlite3{suffix}")
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
# A take that ran (queued to end) at least this long rings its maker's bell when it
# finishes, and mails them if they asked; a failed one always rings. Quick renders don't.
SLATE_NOTIFY_AFTER_SECONDS = env_float("SLATE_NOTIFY_AFTER_SECONDS", 30.0)
# Read notifications are kept this long, unread ones a year (notifications.prune).
SLATE_NOTIFICATIONS_KEEP_DAYS = env_int("SLATE_NOTIFICATIONS_KEEP_DAYS", 90)
# A take's worker renews its lease while it works; a take whose lease ran out
# belongs to a dead worker and is picked up again by the sweep.
SLATE_LEASE_SECONDS = env_float("SLATE_LEASE_SECONDS", 30.0)
SLATE_SWEEP_SECONDS = env_float("SLATE_SWEEP_SECONDS", 10.0)
# How often the sweeper runs the apps' housekeeping (the trash purge): hourly.
SLATE_HOUSEKEEPING_SECONDS = env_float("SLATE_HOUSEKEEPING_SECONDS", 3600.0)
SLATE_MAX_ATTEMPTS = env_int("SLATE_MAX_ATTEMPTS", 3)
# Bigger uploads are skipped while they stream in (the limits: studio/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "studio.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# A request body over this is refused (413) before it is read into memory (studio/bodylimit.py);
# the largest body Slate needs is a reference upload (studio/uploads.py) with its form.
SLATE_MAX_REQUEST_BYTES = env_int("SLATE_MAX_REQUEST_BYTES", STREAM_CAP + 1 * MB)
# Threads that run pages' views (studio/handler.py; media requests have one more of their own).
# A slow view holds one of them; more threads take turns at one interpreter lock.
SLATE_REQUEST_THREADS = max(1, env_int("SLATE_REQUEST_THREADS", 2))
SLATE_WORKER_POLL_SECONDS = env_float("SLATE_WORKER_POLL_SECONDS", 0.25)
# This studio's address as providers see it (https://studio.example.com): needed for
# providers that take a webhook URL with each job (fal, OpenRouter).
SLATE_PUBLIC_URL = env_str("SLATE_PUBLIC_URL")
# Takes with live events (ComfyUI's websocket) are followed by one watcher thread per
# worker process, however many (false: each in blocking slices of a task thread, as before).
SLATE_WATCHER = env_bool("SLATE_WATCHER", True)
# How long a take is followed on live events alone before one look over HTTP confirms it
# (a missed event costs at most this); with SLATE_WATCHER=false, the length of a slice.
SLATE_WATCH_SECONDS = env_float("SLATE_WATCH_SECONDS", 60.0)
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
MEDIA_ROOT.mkdir(mode=0o700, parents=True, exist_ok=True)
private(MEDIA_ROOT)
# Django's defaults would leave stored media world-readable (0644) whatever the umask.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
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

# Email (invites, password resets): printed on the server's console unless a mail server is
# named, as EMAIL_URL=smtp://USER:PASSWORD@HOST:587 (smtps:// for TLS from the first byte) or
# as EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS/EMAIL_USE_SSL.
if email_url := env_str("EMAIL_URL"):
    _mail = urlsplit(email_url)
    _ssl = _mail.scheme == "smtps"
    _smtp = {
        "host": _mail.hostname or "",
        "port": _mail.port,
        "username": unquote(_mail.username or ""),
        "password": unquote(_mail.password or ""),
        "use_ssl": _ssl,
        "use_tls": not _ssl and _mail.port != 25,
    }
elif email_host := env_str("EMAIL_HOST"):
    _ssl = env_bool("EMAIL_USE_SSL")
    _smtp = {
        "host": email_host,
        "port": env_int("EMAIL_PORT", 465 if _ssl else 587),
        "username": env_str("EMAIL_HOST_USER"),
        "password": env_str("EMAIL_HOST_PASSWORD"),
        "use_ssl": _ssl,
        "use_tls": not _ssl and env_bool("EMAIL_USE_TLS", True),
    }
else:
    _smtp = None
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {**_smtp, "timeout": env_int("EMAIL_TIMEOUT", 10)},
    }
    if _smtp
    else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Slate <slate@localhost>")

# Login throttling (django-axes, kept in the database so every process sees it): after
# SLATE_LOGIN_FAILURE_LIMIT wrong passwords for one account, or from one client address,
# logins from there wait SLATE_LOGIN_COOLOFF_MINUTES. Behind a proxy, the client address
# is REMOTE_ADDR as the proxy passes it (daphne --proxy-headers, or the proxy's own).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("SLATE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("SLATE_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # each on its own
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The library (library/): a share link's password takes SLATE_SHARE_PASSWORD_ATTEMPTS wrong
# tries, then refuses every try for SLATE_SHARE_PASSWORD_LOCKOUT_MINUTES (counted per link, in
# the database, so a guesser gains nothing by switching address or process). Trashed takes
# are purged SLATE_TRASH_DAYS after they were trashed (by the worker's hourly housekeeping,
# or `manage.py library purge-trash`).
SLATE_SHARE_PASSWORD_ATTEMPTS = env_int("SLATE_SHARE_PASSWORD_ATTEMPTS", 5)
SLATE_SHARE_PASSWORD_LOCKOUT_MINUTES = env_int("SLATE_SHARE_PASSWORD_LOCKOUT_MINUTES", 15)
SLATE_TRASH_DAYS = env_int("SLATE_TRASH_DAYS", 30)
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
# Production over HTTPS (README "Scale-out"): behind a proxy that terminates TLS, name the header
# it sets (SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https") so redirects, CSRF and the
# websocket origin check know the request was secure.
SECURE_PROXY_SSL_HEADER = env_header("SECURE_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Log lines go to stderr, as text or (SLATE_LOG_FORMAT=json) one JSON object each, with the
# request id of the request they are about (studio/logs.py).
SLATE_LOG_FORMAT = env_str("SLATE_LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "slate": {
            "()": "studio.logs.JsonFormatter"
            if SLATE_LOG_FORMAT == "json"
            else "studio.logs.TextFormatter"
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "slate"}},
    "loggers": {
        "studio": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING"},
        # Django sends a 500's traceback to mail_admins alone: print it, once.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # A websocket consumer that raises is reported by daphne.
        "daphne": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# The most bytes one provider download may write, whatever the model (a provider that
# streams more is cut off there and the take fails; see docs/security.md).
SLATE_MAX_DOWNLOAD_BYTES = env_int("SLATE_MAX_DOWNLOAD_BYTES", 2 * 1024**3)
