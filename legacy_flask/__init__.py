"""The legacy Flask application, served unchanged behind the gateway until every route is ported."""

from collections.abc import Mapping
from typing import Any

from flask import Flask

from legacy_flask import admin, comments, internal, items, main, notes, posts, tokens, users
from legacy_flask.errors import register_error_handlers
from legacy_flask.extensions import db
from shared_models import engine_options, get_settings
from shared_models.database import install_engine_hooks


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the shared settings; `config` overrides any key."""
    settings = get_settings()
    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SECRET_KEY=settings.secret_key,
        UPSTREAM_URL=settings.upstream_url,
        UPSTREAM_TIMEOUT=settings.upstream_timeout,
        TOKEN_TTL_SECONDS=settings.token_ttl_seconds,
        DB_POOL_SIZE=settings.db_pool_size,
        DB_MAX_OVERFLOW=settings.db_max_overflow,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.update(config or {})
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        engine_options(
            app.config["SQLALCHEMY_DATABASE_URI"],
            pool_size=app.config["DB_POOL_SIZE"],
            max_overflow=app.config["DB_MAX_OVERFLOW"],
        ),
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    db.init_app(app)
    with app.app_context():
        install_engine_hooks(db.engine)

    register_error_handlers(app)
    for blueprint_module in (main, users, tokens, notes, posts, comments, items, internal, admin):
        app.register_blueprint(blueprint_module.bp)
    return app
