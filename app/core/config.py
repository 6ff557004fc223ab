"""Settings: defaults → optional file (ZENGXIN_CONFIG) → environment; immutable at run time.

A missing SECRET_KEY is a start-up error, never a fallback value.  The run script writes one
to ``instance/secret_key`` for a single-machine install.
"""
import os
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
    "LOGIN_THROTTLE_AFTER": 3,       # failed attempts before slowing down
    "LOGIN_THROTTLE_SECONDS": 30,    # wait per failed attempt beyond the threshold (capped)
    "CELERY_BROKER_URL": None,       # None → kombu's SQLAlchemy transport on the instance dir
    "CELERY_RESULT_BACKEND": None,
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_FROM": "zengxin@localhost",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
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
}
INT_KEYS = {"MAX_UPLOAD_MB", "MAIL_PORT"}


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
            cfg[key] = int(os.environ[env]) if key in INT_KEYS else os.environ[env]
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
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(cfg["SQLALCHEMY_DATABASE_URI"])
    cfg["MAX_CONTENT_LENGTH"] = int(cfg["MAX_UPLOAD_MB"]) * 1024 * 1024 + 1024 * 1024
    return cfg
