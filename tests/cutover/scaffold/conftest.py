"""The scaffold's tests need libcst (`cutover[scaffold]`) and Flask-SQLAlchemy (the stub app);
`cutover.parity` comes from another branch: until it is merged, a private stand-in is used."""

from __future__ import annotations

import importlib.util
import sys

import pytest

pytest.importorskip(
    "libcst", reason="cutover scaffold needs libcst: pip install 'cutover[scaffold]'"
)
pytest.importorskip("flask_sqlalchemy", reason="the scaffold's stub app uses Flask-SQLAlchemy")

if importlib.util.find_spec("cutover.parity") is None:
    from tests.cutover.scaffold import _parity_standin

    sys.modules["cutover.parity"] = _parity_standin
