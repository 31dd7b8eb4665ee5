"""Alembic migrations: upgrade, readiness, models in step with migrations, downgrade."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from bot.storage.db import (
    DatabaseNotReady,
    alembic_config,
    check_models,
    current_revision,
    ensure_ready,
    head_revision,
    make_engine,
    upgrade,
)
from bot.storage.models import Base

TABLES = set(Base.metadata.tables)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@pytest.fixture
def empty_sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    yield engine
    engine.dispose()


def test_an_unmigrated_database_is_not_ready(empty_sqlite: Engine) -> None:
    with pytest.raises(DatabaseNotReady) as caught:
        ensure_ready(empty_sqlite)
    message = str(caught.value)
    assert "has no schema" in message and "`readalong db upgrade`" in message
    assert "\n" not in message


def test_upgrade_creates_the_schema(empty_sqlite: Engine) -> None:
    upgrade(empty_sqlite)
    assert set(inspect(empty_sqlite).get_table_names()) >= TABLES
    assert current_revision(empty_sqlite) == head_revision() is not None
    ensure_ready(empty_sqlite)
    upgrade(empty_sqlite)  # a second run does nothing
    ensure_ready(empty_sqlite)


def test_a_database_at_another_revision_is_not_ready(empty_sqlite: Engine) -> None:
    upgrade(empty_sqlite)
    with empty_sqlite.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zzzz'"))
    with pytest.raises(
        DatabaseNotReady, match=r"is at migration zzzz, not .*`readalong db upgrade`"
    ):
        ensure_ready(empty_sqlite)


def test_an_unreachable_database_names_database_url() -> None:
    engine = make_engine(
        "postgresql+psycopg://nobody:secret@127.0.0.1:1/none", connect_args={"connect_timeout": 3}
    )
    try:
        with pytest.raises(DatabaseNotReady) as caught:
            ensure_ready(engine)
    finally:
        engine.dispose()
    message = str(caught.value)
    assert message.startswith("config error: DATABASE_URL: cannot connect to")
    assert "secret" not in message and "\n" not in message


def test_the_migrated_database_is_ready_and_matches_the_models(engine: Engine) -> None:
    ensure_ready(engine)
    check_models(engine)  # raises if models and migrations disagree


def test_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    try:
        downgrade(engine, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        assert current_revision(engine) is None
        with pytest.raises(DatabaseNotReady, match="has no schema"):
            ensure_ready(engine)
    finally:
        upgrade(engine)  # leave the shared database as the other tests expect it
    assert set(inspect(engine).get_table_names()) >= TABLES
    ensure_ready(engine)
    check_models(engine)


def test_the_running_plan_index_is_partial(engine: Engine) -> None:
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("reading_plans")}
    index = indexes["uq_reading_plans_running_group"]
    assert index["unique"] and index["column_names"] == ["group_id"]


def test_wave_one_data_upgrades_to_per_member_numbers_and_decoded_text(engine: Engine) -> None:
    """0001 → 0002: reflections numbered per member in order; Slack's entities that
    wave 1 stored from slash commands decoded once; book keys folded (curly quotes)."""
    try:
        downgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO workspaces (id, team_id, created_at) VALUES (1, 'T1', :now)"),
                {"now": "2026-11-30 08:00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO groups (id, workspace_id, channel_id, store_all_messages, created_at)"
                    " VALUES (1, 1, 'C1', false, :now)"
                ),
                {"now": "2026-11-30 08:00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO books (id, workspace_id, title, author, book_key, created_at) VALUES"
                    " (1, 1, 'Pride &amp; Prejudice', 'Jane Austen', 'x', :now),"
                    " (2, 1, 'The Innovator’s Dilemma', 'Clayton Christensen', 'y', :now)"
                ),
                {"now": "2026-11-30 08:00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO reading_plans (id, group_id, book_id, host_user_id, state,"
                    " cadence_kind, weekday, at_time, chapters_per_step, start_date, timezone,"
                    " created_at) VALUES (1, 1, 1, 'U1', 'finished', 'weekly', 0, '09:00:00', 1,"
                    " '2026-11-30', 'UTC', :now)"
                ),
                {"now": "2026-11-30 08:00:00"},
            )
            for rid, author, body in [
                (7, "U1", "a &lt;b&gt; &amp; c"),
                (8, "U2", "bob's first"),
                (9, "U1", "alice's second &amp;amp;"),
            ]:
                conn.execute(
                    text(
                        "INSERT INTO reflections (id, plan_id, step_number, author_id, visibility,"
                        " text, created_at, edit_count) VALUES (:id, 1, 1, :a, 'shared', :t, :now, 0)"
                    ),
                    {"id": rid, "a": author, "t": body, "now": "2026-11-30 08:00:00"},
                )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, author_id, number, workspace_id, text FROM reflections ORDER BY id"
                )
            ).all()
            books = conn.execute(text("SELECT title, book_key FROM books ORDER BY id")).all()
            counters = conn.execute(
                text("SELECT user_id, last_reflection_number FROM members ORDER BY user_id")
            ).all()
        assert [tuple(c) for c in counters] == [("U1", 2), ("U2", 1)]  # 0004: never reused
        assert [tuple(r) for r in rows] == [
            (7, "U1", 1, 1, "a <b> & c"),
            (8, "U2", 1, 1, "bob's first"),
            (9, "U1", 2, 1, "alice's second &amp;"),
        ]
        assert books[0][0] == "Pride & Prejudice"
        assert books[1][1] == "the innovators dilemma\x1fclayton christensen"  # 0003: words
    finally:
        with engine.begin() as conn:
            for table in (
                "reflections",
                "reading_plans",
                "books",
                "groups",
                "members",
                "workspaces",
            ):
                conn.execute(text(f"DELETE FROM {table}"))
        upgrade(engine)
    check_models(engine)


def test_upgrading_rebuilds_tables_without_losing_their_children(engine: Engine) -> None:
    """SQLite rebuilds a table to alter it (copy, drop, rename). With foreign keys on,
    dropping reading_plans cascaded into reflections, and rebuilding plan_steps set
    thread_messages.step_id to NULL. Every row and link must survive every upgrade."""
    try:
        downgrade(engine, "0001")
        with engine.begin() as conn:
            now = {"now": "2026-11-30 08:00:00"}
            conn.execute(
                text("INSERT INTO workspaces (id, team_id, created_at) VALUES (1, 'T1', :now)"),
                now,
            )
            conn.execute(
                text(
                    "INSERT INTO groups (id, workspace_id, channel_id, store_all_messages,"
                    " created_at) VALUES (1, 1, 'C1', false, :now)"
                ),
                now,
            )
            conn.execute(
                text(
                    "INSERT INTO books (id, workspace_id, title, author, book_key, created_at)"
                    " VALUES (1, 1, 'Dune', 'Frank Herbert', 'k', :now)"
                ),
                now,
            )
            conn.execute(
                text(
                    "INSERT INTO reading_plans (id, group_id, book_id, host_user_id, state,"
                    " cadence_kind, weekday, at_time, chapters_per_step, start_date, timezone,"
                    " created_at) VALUES (1, 1, 1, 'U1', 'active', 'weekly', 0, '09:00:00', 1,"
                    " '2026-11-30', 'UTC', :now)"
                ),
                now,
            )
            conn.execute(
                text(
                    "INSERT INTO plan_steps (id, plan_id, number, first_chapter, last_chapter,"
                    " due_at, state, attempts, late, message_ts) VALUES (1, 1, 1, 1, 1, :now,"
                    " 'posted', 1, false, '1.000001')"
                ),
                now,
            )
            conn.execute(
                text(
                    "INSERT INTO reflections (id, plan_id, step_number, author_id, visibility,"
                    " text, created_at, edit_count) VALUES (1, 1, 1, 'U1', 'shared', 'kept',"
                    " :now, 0)"
                ),
                now,
            )
            conn.execute(
                text(
                    "INSERT INTO thread_messages (id, workspace_id, step_id, channel_id, ts,"
                    " thread_ts, user_id, text, files, reaction_count, created_at) VALUES"
                    " (1, 1, 1, 'C1', '1.000002', '1.000001', 'U2', 'a reply', '[]', 0, :now)"
                ),
                now,
            )
            conn.execute(
                text(
                    "INSERT INTO summaries (id, plan_id, kind, period_key, channel_id, state,"
                    " message_ts, created_at) VALUES (1, 1, 'step', 'step-1', 'C1', 'posted',"
                    " '[]', :now)"
                ),
                now,
            )
        upgrade(engine)
        with engine.connect() as conn:
            counts = {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("reading_plans", "plan_steps", "reflections", "summaries")
            }
            step_link = conn.execute(text("SELECT step_id FROM thread_messages")).scalar()
        assert counts == {"reading_plans": 1, "plan_steps": 1, "reflections": 1, "summaries": 1}
        assert step_link == 1
    finally:
        with engine.begin() as conn:
            for table in (
                "thread_messages",
                "summaries",
                "reflections",
                "plan_steps",
                "reading_plans",
                "books",
                "groups",
                "workspaces",
            ):
                conn.execute(text(f"DELETE FROM {table}"))
        upgrade(engine)


def test_the_head_read_from_the_files_is_alembics() -> None:
    """`readalong serve` knows the head without importing Alembic; Alembic agrees."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    walked = list(script.walk_revisions())
    assert head_revision() == script.get_current_head() == walked[0].revision
    assert [r.down_revision for r in walked] == [r.revision for r in walked[1:]] + [None]  # a line
    assert sorted(r.revision for r in walked) == [r.revision for r in reversed(walked)]


def test_the_current_revision_is_alembics_at_every_step(empty_sqlite: Engine) -> None:
    from alembic.runtime.migration import MigrationContext

    def alembics() -> str | None:
        with empty_sqlite.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    assert current_revision(empty_sqlite) is None is alembics()
    for revision in ("0001", "0002", "0003", head_revision() or "head"):
        upgrade(empty_sqlite, revision)
        assert current_revision(empty_sqlite) == alembics() == revision
    downgrade(empty_sqlite, "0002")
    assert current_revision(empty_sqlite) == alembics() == "0002"
