"""The scaffold's tests need libcst (`cutover[scaffold]`) and Flask-SQLAlchemy (the stub app)."""

from __future__ import annotations

import pytest

pytest.importorskip(
    "libcst", reason="cutover scaffold needs libcst: pip install 'cutover[scaffold]'"
)
pytest.importorskip("flask_sqlalchemy", reason="the scaffold's stub app uses Flask-SQLAlchemy")
