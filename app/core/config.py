"""Settings: defaults → optional file (ZENGXIN_CONFIG) → environment; immutable at run time.

A missing SECRET_KEY is a start-up error, never a fallback value.  The run script writes one
to ``instance/secret_key`` for a single-machine install.
"""
import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INSTANCE_DIR = Path(os.environ.get("ZENGXIN_INSTANCE", PROJECT_ROOT / "instance"))

DEFAULTS = {
    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{INSTANCE_DIR / 'zengxin.db'}",
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "UPLOAD_DIR": str(INSTANCE_DIR / "uploads"),
    "MAX_UPLOAD_MB": 20,
    "BABEL_DEFAULT_LOCALE": "zh",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ["zh", "en"],
    "TIMEZONE": "Asia/Shanghai",
    "BPMN_DIR": str(PROJECT_ROOT / "bpmn"),
    "WTF_CSRF_TIME_LIMIT": None,
    # failed logins, then 429 until the window moves on (app/accounts/throttle.py); README "Security"
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",     # one username from one address
    "LOGIN_LIMIT_PER_ADDRESS": "30 per 15 minutes",    # one address, any usernames
    "RATELIMIT_STORAGE_URI": None,   # None: the Celery broker when it is Redis, else memory:// (one process)
    "SESSION_IDLE_MINUTES": 30,      # a session ends after this long without a request ...
    "SESSION_ABSOLUTE_HOURS": 12,    # ... and this long after its login, whatever the activity
    "CELERY_BROKER_URL": None,       # None → kombu's SQLAlchemy transport on the instance dir
    "CELERY_RESULT_BACKEND": None,
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_FROM": "zengxin@localhost",
    "PUBLIC_URL": "",                # e.g. https://zengxin.example.gov.cn, for links in e-mails
    "DATABASE_SCHEMA": None,         # PostgreSQL schema (search_path) for every connection
    "CELERY_QUEUE": "zengxin",       # queue name (one per deployment sharing a broker)
    "JOB_MAX_RETRIES": 3,            # a failed periodic job is retried with back-off ...
    "JOB_RETRY_BASE_SECONDS": 60,    # ... after 60 s, 120 s, 240 s
    "TIMER_POLL_SECONDS": 30,        # how often due BPMN timers are looked for
    "DEADLINE_SCAN_SECONDS": 900,    # reminders and escalations of task deadlines
    "MAIL_SWEEP_SECONDS": 600,
    "DUTY_JOB_PAUSE_SECONDS": 0,     # tests only: slow a duty run down to kill a worker mid-run
    "JOB_STALE_SECONDS": 3600,       # a run still "running" after this is marked abandoned (its worker died)
    "MAIL_USE_TLS": False,           # STARTTLS on MAIL_PORT (587) before authenticating
    "MAIL_USERNAME": None,           # SMTP AUTH when set
    "MAIL_PASSWORD": None,
    "MAIL_TIMEOUT_SECONDS": 30,
    "MAIL_CA_FILE": None,            # CA bundle for the SMTP server's certificate (default: the system's)
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",            # json (one object per line) | text
    "SENTRY_DSN": None,              # errors of web requests and Celery jobs go to Sentry when set
    "SENTRY_ENVIRONMENT": None,
    "PROXY_FIX_X_FOR": 0,            # behind N reverse proxies: trust N X-Forwarded-For hops (werkzeug ProxyFix)
    "PROXY_FIX_X_PROTO": 0,
    "PROXY_FIX_X_HOST": 0,
    "PROXY_FIX_X_PORT": 0,
    "PROXY_FIX_X_PREFIX": 0,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": None,   # None: True when PUBLIC_URL is https:// (set it when served over HTTPS)
}

ENV_KEYS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "CELERY_BROKER_URL": "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND": "CELERY_RESULT_BACKEND",
    "ZENGXIN_UPLOAD_DIR": "UPLOAD_DIR",
    "ZENGXIN_MAX_UPLOAD_MB": "MAX_UPLOAD_MB",
    "MAIL_SERVER": "MAIL_SERVER",
    "MAIL_PORT": "MAIL_PORT",
    "MAIL_FROM": "MAIL_FROM",
    "PUBLIC_URL": "PUBLIC_URL",
    "ZENGXIN_DB_SCHEMA": "DATABASE_SCHEMA",
    "CELERY_QUEUE": "CELERY_QUEUE",
    "ZENGXIN_JOB_MAX_RETRIES": "JOB_MAX_RETRIES",
    "ZENGXIN_JOB_RETRY_BASE_SECONDS": "JOB_RETRY_BASE_SECONDS",
    "ZENGXIN_TIMER_POLL_SECONDS": "TIMER_POLL_SECONDS",
    "ZENGXIN_DEADLINE_SCAN_SECONDS": "DEADLINE_SCAN_SECONDS",
    "ZENGXIN_DUTY_JOB_PAUSE_SECONDS": "DUTY_JOB_PAUSE_SECONDS",
    "SESSION_COOKIE_SECURE": "SESSION_COOKIE_SECURE",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "ZENGXIN_SESSION_IDLE_MINUTES": "SESSION_IDLE_MINUTES",
    "ZENGXIN_SESSION_ABSOLUTE_HOURS": "SESSION_ABSOLUTE_HOURS",
    "ZENGXIN_LOGIN_LIMIT_PER_ACCOUNT": "LOGIN_LIMIT_PER_ACCOUNT",
    "ZENGXIN_LOGIN_LIMIT_PER_ADDRESS": "LOGIN_LIMIT_PER_ADDRESS",
    "ZENGXIN_JOB_STALE_SECONDS": "JOB_STALE_SECONDS",
    "MAIL_USE_TLS": "MAIL_USE_TLS",
    "MAIL_USERNAME": "MAIL_USERNAME",
    "MAIL_PASSWORD": "MAIL_PASSWORD",
    "MAIL_CA_FILE": "MAIL_CA_FILE",
    "ZENGXIN_LOG_LEVEL": "LOG_LEVEL",
    "ZENGXIN_LOG_FORMAT": "LOG_FORMAT",
    "SENTRY_DSN": "SENTRY_DSN",
    "SENTRY_ENVIRONMENT": "SENTRY_ENVIRONMENT",
    "PROXY_FIX_X_FOR": "PROXY_FIX_X_FOR",
    "PROXY_FIX_X_PROTO": "PROXY_FIX_X_PROTO",
    "PROXY_FIX_X_HOST": "PROXY_FIX_X_HOST",
    "PROXY_FIX_X_PORT": "PROXY_FIX_X_PORT",
    "PROXY_FIX_X_PREFIX": "PROXY_FIX_X_PREFIX",
}
INT_KEYS = {"MAX_UPLOAD_MB", "MAIL_PORT", "JOB_MAX_RETRIES", "PROXY_FIX_X_FOR", "PROXY_FIX_X_PROTO",
            "PROXY_FIX_X_HOST", "PROXY_FIX_X_PORT", "PROXY_FIX_X_PREFIX"}
FLOAT_KEYS = {"JOB_RETRY_BASE_SECONDS", "TIMER_POLL_SECONDS", "DEADLINE_SCAN_SECONDS", "DUTY_JOB_PAUSE_SECONDS",
              "SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS", "JOB_STALE_SECONDS"}
BOOL_KEYS = {"SESSION_COOKIE_SECURE", "MAIL_USE_TLS"}


def _env_value(key: str, raw: str):
    if key in INT_KEYS:
        return int(raw)
    if key in FLOAT_KEYS:
        return float(raw)
    if key in BOOL_KEYS:
        if raw.strip().lower() not in {"1", "true", "yes", "on", "0", "false", "no", "off", ""}:
            raise ConfigError(f"{key} must be true or false, not {raw!r}")
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return raw


class ConfigError(RuntimeError):
    pass


def normalise_db_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_config(override: dict | None = None) -> dict:
    cfg = dict(DEFAULTS)
    path = os.environ.get("ZENGXIN_CONFIG")
    if path:
        ns: dict = {}
        exec(compile(Path(path).read_text(encoding="utf-8"), path, "exec"), ns)
        cfg.update({k: v for k, v in ns.items() if k.isupper()})
    for env, key in ENV_KEYS.items():
        if os.environ.get(env):
            cfg[key] = _env_value(key, os.environ[env])
    if override:
        cfg.update(override)
    if not cfg.get("SECRET_KEY"):
        secret_file = INSTANCE_DIR / "secret_key"
        if secret_file.exists():
            cfg["SECRET_KEY"] = secret_file.read_text().strip()
    if not cfg.get("SECRET_KEY"):
        raise ConfigError(
            "SECRET_KEY is not set: export SECRET_KEY, put it in the ZENGXIN_CONFIG file, "
            f"or write it to {INSTANCE_DIR / 'secret_key'} (the run script does this)."
        )
    if cfg.get("MAIL_USERNAME") and not cfg.get("MAIL_USE_TLS"):
        raise ConfigError("MAIL_USERNAME is set but MAIL_USE_TLS is not: the SMTP password would travel in clear; "
                          "set MAIL_USE_TLS=true (STARTTLS).")
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(cfg["SQLALCHEMY_DATABASE_URI"])
    # test each pooled connection before use: the first request after a database restart reconnects
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, **(cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {})}
    if cfg.get("DATABASE_SCHEMA") and cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        opts = dict(cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(opts.get("connect_args") or {})
        connect_args["options"] = f"-csearch_path={cfg['DATABASE_SCHEMA']}"
        opts["connect_args"] = connect_args
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = opts
    _session_settings(cfg)
    cfg["MAX_CONTENT_LENGTH"] = int(cfg["MAX_UPLOAD_MB"]) * 1024 * 1024 + 1024 * 1024
    return cfg


def _session_settings(cfg: dict) -> None:
    """Cookie flags and lifetimes follow from the settings above (README, "Sessions and logins")."""
    if cfg.get("SESSION_COOKIE_SECURE") is None:
        cfg["SESSION_COOKIE_SECURE"] = str(cfg.get("PUBLIC_URL") or "").lower().startswith("https://")
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    cfg["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=float(cfg["SESSION_ABSOLUTE_HOURS"]))
    # Flask-Login's remember-me cookie (not offered today) gets the same flags
    cfg["REMEMBER_COOKIE_SECURE"] = cfg["SESSION_COOKIE_SECURE"]
    cfg["REMEMBER_COOKIE_HTTPONLY"] = True
    cfg["REMEMBER_COOKIE_SAMESITE"] = cfg["SESSION_COOKIE_SAMESITE"]
    cfg["REMEMBER_COOKIE_DURATION"] = cfg["PERMANENT_SESSION_LIFETIME"]
    if not cfg.get("RATELIMIT_STORAGE_URI"):       # login counters: shared through Redis when there is one
        broker = str(cfg.get("CELERY_BROKER_URL") or "")
        cfg["RATELIMIT_STORAGE_URI"] = broker if broker.startswith(("redis://", "rediss://")) else "memory://"
