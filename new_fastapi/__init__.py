"""FastAPI ports of the legacy endpoints, answering byte for byte as the Flask app does."""

from new_fastapi.main import create_app

__all__ = ["create_app"]
