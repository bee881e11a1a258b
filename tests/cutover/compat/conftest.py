"""Fixtures the compat tests share: a Flask app to compare against."""

import pytest
from flask import Flask


@pytest.fixture(scope="module")
def flask_app() -> Flask:
    app = Flask("compat_reference")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.secret_key = "compat-secret"
    return app
