"""Benchmark harness: gateway speed against Flask on gunicorn and FastAPI alone."""
