"""The bench's reference database: migrated, seeded, and given the rows its reads load."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select

from bench.scenarios import BENCH_ITEMS, BENCH_TOKEN, ROOT, make_database, seed_reads
from shared_models import Item, create_engine_for, make_sessionmaker
from shared_models.tokens import user_for_token


def test_seed_reads_adds_the_list_rows_and_a_live_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    make_database(env)
    seed_reads(url)
    engine = create_engine_for(url)
    try:
        with make_sessionmaker(engine)() as session:
            assert session.scalar(select(func.count()).select_from(Item)) == BENCH_ITEMS
            user = user_for_token(session, BENCH_TOKEN)
            assert user is not None and user.username == "alice"
    finally:
        engine.dispose()
