"""Processes starting together create slack_sdk's OAuth tables once, without a failure
(seen: four `readalong serve` on a new PostgreSQL database, one died on a unique
violation in PostgreSQL's catalogue, both having seen the tables missing)."""

from __future__ import annotations

import threading
from pathlib import Path

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.db import make_engine, one_at_a_time
from tests.process_helpers import scratch_database

STARTS = 6


def test_six_starts_at_once_create_the_oauth_tables_once(tmp_path: Path) -> None:
    with scratch_database(tmp_path, "readalong_ddl") as url:
        engines = [make_engine(url) for _ in range(STARTS)]
        gate = threading.Barrier(STARTS)
        failures: list[SQLAlchemyError] = []

        def start(index: int) -> None:
            engine = engines[index]
            installations = SQLAlchemyInstallationStore(client_id="1.2", engine=engine)
            states = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
            gate.wait()
            try:
                with one_at_a_time(engine):
                    installations.create_tables()  # type: ignore[no-untyped-call]
                    states.create_tables()  # type: ignore[no-untyped-call]
            except SQLAlchemyError as exc:  # what would have stopped that process
                failures.append(exc)

        threads = [threading.Thread(target=start, args=(i,)) for i in range(STARTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        try:
            assert failures == []
            tables = set(inspect(engines[0]).get_table_names())
            assert {"slack_bots", "slack_installations", "slack_oauth_states"} <= tables
        finally:
            for engine in engines:
                engine.dispose()
