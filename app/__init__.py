"""zengxin (增信): risk-compensation loan schemes, end to end."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from app.core import errors
from app.core.config import PROJECT_ROOT, load_config
from app.core.db import db
from app.core.i18n import babel, get_locale

login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()


# The imports inside create_app() and its helpers are deliberate (Flask's application-factory pattern):
# importing `app`, as every `import app.x` does, must not import every feature, its models and views.
def create_app(config_override: dict | None = None) -> Flask:
    app = errors.Application(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                             static_folder=str(PROJECT_ROOT / "app" / "static"))
    app.config.update(load_config(config_override))
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    from app.core import logs, proxy
    logs.configure_logging(app)          # request id, user and organisation on every log line
    logs.init_sentry(app)                # when SENTRY_DSN is set
    proxy.install_proxy_fix(app)         # PROXY_FIX_X_* behind a reverse proxy

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=get_locale,
                   default_translation_directories=str(PROJECT_ROOT / "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    from app.accounts.throttle import limiter
    limiter.init_app(app)
    from app.core import security_headers
    security_headers.init_app(app)

    from app.core import input_guard
    input_guard.install(app)   # before the blueprints: their <int:...> routes take the 64-bit converter

    errors.init_app(app)     # one transaction per request; domain errors and the 500 page
    _import_models()
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_cli(app)
    from app.core import outage
    outage.register(app)                 # database unreachable → localized 503, not 500

    from app.core.sqlite import configure_sqlite
    configure_sqlite(app)

    from app.jobs.wiring import init_celery
    init_celery(app)
    return app


def _import_models():
    # every model module, so metadata (and migrations) see all tables
    import app.accounts.models  # noqa: F401
    import app.core.audit  # noqa: F401
    import app.core.sequences  # noqa: F401
    import app.core.workdays  # noqa: F401
    import app.workflow.models  # noqa: F401
    import app.formjs.models  # noqa: F401
    import app.policies.models  # noqa: F401
    import app.applications.models  # noqa: F401
    import app.loans.models  # noqa: F401
    import app.compensation.models  # noqa: F401
    import app.jobs.models  # noqa: F401
    import app.notifications.models  # noqa: F401
    import app.duties.models  # noqa: F401
    import app.fund.models  # noqa: F401
    import app.loanbook.models  # noqa: F401
    import app.api.models  # noqa: F401
    import app.credit.models  # noqa: F401
    import app.reports.models  # noqa: F401
    import app.subsidies.models  # noqa: F401
    import app.performance.models  # noqa: F401


def _register_blueprints(app):
    from app.accounts.views import bp as accounts_bp
    from app.applications.views import bp as applications_bp
    from app.loans.views import bp as loans_bp
    from app.tasks.views import bp as tasks_bp
    from app.admin.views import bp as admin_bp
    from app.workflow.views import bp as workflow_bp
    from app.fund.views import bp as fund_bp
    from app.admin.calendar import bp as calendar_bp
    from app.compensation.views import bp as compensation_bp
    from app.notifications.views import bp as notifications_bp
    from app.jobs.views import bp as jobs_bp
    from app.duties.views import bp as duties_bp
    from app.registers.views import bp as registers_bp
    from app.dashboards.views import bp as dashboards_bp
    from app.reports.views import bp as reports_bp
    from app.pages.views import bp as pages_bp
    from app.core.health import bp as health_bp
    from app.workflow.cockpit_views import bp as cockpit_bp
    from app.loanbook.views import bp as loanbook_bp
    from app.performance.views import bp as performance_bp
    from app.api.admin_views import bp as api_admin_bp
    from app.api import views as api_views
    from app.credit.views import bp as credit_bp
    from app.subsidies.views import bp as subsidies_bp
    from app.home.views import bp as home_bp

    from app.accounts.sessions import gate_unverified_firms
    app.before_request(gate_unverified_firms)     # a firm awaiting verification can only wait

    for bp in (accounts_bp, applications_bp, loans_bp, tasks_bp, admin_bp, workflow_bp, fund_bp, calendar_bp,
               compensation_bp, notifications_bp, jobs_bp, duties_bp, health_bp, cockpit_bp, loanbook_bp,
               api_admin_bp, credit_bp, registers_bp, dashboards_bp, reports_bp, pages_bp, subsidies_bp,
               performance_bp, home_bp):
        app.register_blueprint(bp)
    api_views.init_app(app)      # /api/v1: token-authenticated, no session, no CSRF (app/api)
    csrf.exempt(api_views.blp)


def _register_template_helpers(app):
    from app.core import money, timeutil

    app.jinja_env.filters["yuan"] = money.fmt_yuan
    app.jinja_env.filters["dt"] = timeutil.fmt
    app.jinja_env.globals["get_locale"] = get_locale
    from app.core.i18n import chinese_data, localname, message, shown, translate_data, weekday
    app.jinja_env.filters["weekday"] = weekday
    app.jinja_env.filters["localname"] = localname   # name_en in English when recorded
    app.jinja_env.filters["tr"] = translate_data     # msgids held in data (BPMN task names)
    app.jinja_env.filters["zh"] = chinese_data       # Chinese by nature (citations, announcements): lang="zh-CN" in English
    app.jinja_env.globals["message"] = message       # a msgid with parameters (computation lines)
    app.jinja_env.filters["msg"] = shown             # stored messages (titles, reasons, memos) in the reader's language
    from app.core.i18n import PunctuationExtension
    app.jinja_env.add_extension(PunctuationExtension)  # full-width punctuation in template text

    @app.context_processor
    def inject():
        return {"current_user": current_user}


def _register_cli(app):
    from app.cli import register
    register(app)


@login_manager.user_loader
def _load_user(user_id):
    # the session's epoch, its idle and absolute lifetimes, deactivation: app/accounts/sessions.py
    from app.accounts.sessions import load_user
    return load_user(user_id)
