"""Issue 10 #25, with real processes: after two restarts and one 500, a prompt is seconds
late, not leases and a grown backoff late; and it is posted once.

Seen: "after two restarts, one 500 delayed a prompt by 20-40 s, and prompts went out
75 s late". Here one step falls due; ``readalong serve`` claims it and is SIGKILLed while
its post is held by Slack (the emulator holds every post ``HOLD`` s and answers the
first three with a 500, which the two killed processes never see). A second process
takes the claim over and is killed the same way; a third takes it over, gets the 500,
retries and posts. The takeovers come once the dead process's post is over
(``POST_FLIGHT_SECONDS``), not after the lease; the retry comes after a first failure's
backoff (5 s), as the crashes were no failures.

On PostgreSQL when ``TEST_DATABASE_URL`` names a server (a scratch database of its own),
else on a SQLite file.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.domain.model import StepState
from bot.emulator.server import SlackEmulator
from bot.storage.db import make_engine
from bot.storage.models import StepRow
from tests import process_helpers
from tests.process_helpers import (
    ServerProcess,
    posted_step_ids,
    scratch_database,
    seed_groups,
    wait_for,
)

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

SECRET = "restart-lateness-signing-secret"
LEASE_SECONDS = 30
FLIGHT_SECONDS = 2
HOLD = 1.5  # seconds the emulator holds each chat.postMessage (under FLIGHT_SECONDS)
FIRST_BACKOFF = 5.0


def start_serve(
    name: str, database_url: str, emulator: SlackEmulator, workdir: Path
) -> ServerProcess:
    return process_helpers.start_serve(
        name,
        database_url,
        emulator,
        workdir,
        secret=SECRET,
        lease_seconds=LEASE_SECONDS,
        POST_FLIGHT_SECONDS=str(FLIGHT_SECONDS),
    )


def the_claim(database_url: str) -> tuple[str, str | None, datetime]:
    """(state, claim token, due time) of the only step."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            state, token, due = conn.execute(
                select(StepRow.state, StepRow.claimed_by, StepRow.due_at)
            ).one()
            return state, token, due.replace(tzinfo=UTC)
    finally:
        engine.dispose()


def fall_due_in(database_url: str, seconds: float) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(StepRow).values(due_at=datetime.now(UTC) + timedelta(seconds=seconds))
            )
    finally:
        engine.dispose()


def test_two_restarts_and_a_500_delay_a_prompt_by_seconds_and_post_it_once(
    tmp_path: Path,
) -> None:
    emulator = SlackEmulator().start()
    processes: list[ServerProcess] = []
    try:
        with scratch_database(tmp_path, "readalong_h2_restart") as database_url:
            seed_groups(emulator, database_url, secret=SECRET, groups=1, prefix="C0RS")
            emulator.slow_down(HOLD, method="chat.postMessage")
            emulator.fail_next(3, status=500, method="chat.postMessage")
            seen: list[str] = []

            def killed_while_posting(name: str) -> None:
                serve = start_serve(name, database_url, emulator, tmp_path)
                processes.append(serve)
                serve.wait_listening()
                if not seen:
                    fall_due_in(database_url, 1.0)

                def claimed_anew() -> bool:
                    serve.check_alive()
                    state, token, _due = the_claim(database_url)
                    return state == StepState.CLAIMED.value and token not in seen

                wait_for(claimed_anew, LEASE_SECONDS + 20, f"{name} to claim the step")
                seen.append(str(the_claim(database_url)[1]))
                time.sleep(0.4)  # its post is out, and held by Slack
                os.kill(serve.process.pid, signal.SIGKILL)
                serve.process.wait(timeout=10)

            killed_while_posting("first")
            killed_while_posting("second")
            last = start_serve("third", database_url, emulator, tmp_path)
            processes.append(last)
            last.wait_listening()

            def posted() -> bool:
                last.check_alive()
                return the_claim(database_url)[0] == StepState.POSTED.value

            wait_for(posted, 2 * LEASE_SECONDS + 40, "the third process to post the step")
            due = the_claim(database_url)[2]
            last.kill()

            calls = emulator.calls_to("chat.postMessage")
            assert [c.status for c in calls] == [500, 500, 500, 200], [c.status for c in calls]
            failed, landed = calls[2], calls[3]
            late = landed.at - due.timestamp()
            waited = (landed.at - HOLD) - failed.at  # from the 500 to the retry's send
            print(
                f"prompt landed {late:.1f} s after it fell due (two restarts, one 500); "
                f"retried {waited:.1f} s after the 500"
            )
            (step_id,) = set(posted_step_ids(emulator))
            assert posted_step_ids(emulator) == [step_id]
            assert FIRST_BACKOFF <= waited < FIRST_BACKOFF + 2.5, waited
            assert late < LEASE_SECONDS, late
    finally:
        for serve in processes:
            serve.kill()
        emulator.stop()
