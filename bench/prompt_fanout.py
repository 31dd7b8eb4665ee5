"""Prompt fan-out: many groups' prompts due the same minute, posted by ``readalong serve``.

Each group is a channel reading a one-chapter book every day, built through the
services; the groups are spread round-robin over ``--workspaces`` workspaces (more than
one: the bot runs in OAuth mode, one installation per workspace in its database). Then
``--processes`` real ``readalong serve`` processes start on the database, their scheduler
ticking every ``--scheduler-interval`` s (1 by default; production uses 30), and once
they are up and idle every group's only step is set due at the next whole minute at
least ``--lead-seconds`` ahead. The emulator, in this process, answers like Slack:
``chat.postMessage`` takes a log-normal latency (``--latency-p50-ms``/``--latency-p99-ms``,
other methods 20/60 ms) and is rate-limited (per channel 1/s with a burst of 1; per
workspace 600/min with a burst of 100, 429 + Retry-After beyond). The lag of a prompt is
the emulator's wall-clock time of the accepted post minus the due time.

Counted from the emulator's call log: posts per step (duplicates must be 0; missed =
seeded - posted), time from due to the last post, posts/s (from the first to the last
post), lag p50/p99/max, 429s answered, each process's peak RSS (VmHWM); and the
database must mark every step posted. ``--kill-halfway`` SIGKILLs one process once about
half the prompts are posted (with one process, a new one is started in its place).

On SQLite (a temporary file; one process) and on PostgreSQL when ``BENCH_DATABASE_URL``
(or ``TEST_DATABASE_URL``) names a throwaway database, whose ``public`` schema is
replaced. Writes ``prompt_fanout.json`` and a chart, ``prompt_fanout.png``, beside it.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update

from bench.common import (
    HOST,
    RESULTS_DIR,
    SECRET,
    bench_settings,
    fresh_postgres,
    markdown_table,
    percentile,
    postgres_url_from_env,
    quiet_logging,
    redact,
    save_results,
    start_emulator,
)
from bot.bootstrap import build_services
from bot.domain.model import Cadence, Caller, StepState
from bot.emulator.models import ApiCall
from bot.emulator.server import SlackEmulator
from bot.slack.blocks import PROMPT_EVENT
from bot.slack.manifest import bot_scopes
from bot.storage.db import make_engine
from bot.storage.models import StepRow
from tests.process_helpers import (
    ServerProcess,
    process_memory,
    readalong_argv,
    readalong_env,
    sqlite_database,
)

BOOK = "The Dispossessed"
AUTHOR = "Ursula K. Le Guin"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "bench-client-secret"
#: Peak RSS a posting process must stay under (MiB).
RSS_LIMIT_MB = 300.0
#: Posts/s of k processes on PostgreSQL over one's, at least (issue 14).
SCALING_TARGETS = {2: 1.7, 4: 3.0}


# ---------------------------------------------------------------------- options


def _process_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or any(n < 1 for n in counts):
        raise argparse.ArgumentTypeError(f"process counts ≥ 1, comma-separated, not {text!r}")
    return counts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("prompt_fanout")
    add = group.add_argument
    add("--fanout-groups", type=int, default=200, help="groups due at once (default 200)")
    add("--workspaces", type=int, default=1, help="workspaces (round-robin; >1: OAuth; default 1)")
    add(
        "--processes",
        type=_process_counts,
        default=[1],
        help="readalong serve processes; a list (1,2,4) runs each (default 1; SQLite: 1)",
    )
    add(
        "--database",
        choices=["sqlite", "postgresql", "both"],
        default=None,
        help="default: both when BENCH_DATABASE_URL/TEST_DATABASE_URL is set, else sqlite",
    )
    add("--latency-p50-ms", type=float, default=150.0, help="chat.postMessage p50 (150)")
    add("--latency-p99-ms", type=float, default=400.0, help="chat.postMessage p99 (400)")
    add("--other-latency-p50-ms", type=float, default=20.0, help="other methods' p50 (20)")
    add("--other-latency-p99-ms", type=float, default=60.0, help="other methods' p99 (60)")
    add("--channel-rate", type=float, default=1.0, help="posts/s per channel (1)")
    add("--channel-burst", type=int, default=1, help="per-channel burst (1)")
    add("--workspace-rate", type=float, default=600.0, help="posts/min per workspace (600)")
    add("--workspace-burst", type=int, default=100, help="per-workspace burst (100)")
    add(
        "--posting-workers",
        type=int,
        default=64,
        help="POSTING_WORKERS per process (64, the default)",
    )
    add("--scheduler-interval", type=int, default=1, help="SCHEDULER_INTERVAL_SECONDS (1)")
    add("--claim-lease", type=int, default=15, help="CLAIM_LEASE_SECONDS (15)")
    add(
        "--lead-seconds",
        type=float,
        default=5.0,
        help="due at the first whole minute this long after the processes are idle (5)",
    )
    add("--fanout-target", type=float, default=60.0, help="due to last post, at most (60 s)")
    add("--kill-halfway", action="store_true", help="SIGKILL a process at half the posts")


@dataclass(frozen=True)
class Config:
    groups: int
    workspaces: int
    processes: list[int]
    databases: list[str]
    post_latency: tuple[float, float]
    other_latency: tuple[float, float]
    channel_rate: float
    channel_burst: int
    workspace_rate: float
    workspace_burst: int
    posting_workers: int
    interval: int
    lease: int
    lead_s: float
    target_s: float
    kill_halfway: bool
    max_seconds: float
    results_dir: Path

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Config:
        def get(name: str, default: Any) -> Any:
            return getattr(args, name, default)

        choice = get("database", None)
        have_pg = postgres_url_from_env() is not None
        if choice is None:
            databases = ["sqlite", "postgresql"] if have_pg else ["sqlite"]
        elif choice == "both":
            databases = ["sqlite", "postgresql"]
        else:
            databases = [choice]
        return cls(
            groups=int(get("fanout_groups", 200)),
            workspaces=max(1, int(get("workspaces", 1))),
            processes=list(get("processes", [1])),
            databases=databases,
            post_latency=(float(get("latency_p50_ms", 150)), float(get("latency_p99_ms", 400))),
            other_latency=(
                float(get("other_latency_p50_ms", 20)),
                float(get("other_latency_p99_ms", 60)),
            ),
            channel_rate=float(get("channel_rate", 1.0)),
            channel_burst=int(get("channel_burst", 1)),
            workspace_rate=float(get("workspace_rate", 600.0)),
            workspace_burst=int(get("workspace_burst", 100)),
            posting_workers=int(get("posting_workers", 64)),
            interval=int(get("scheduler_interval", 1)),
            lease=int(get("claim_lease", 15)),
            lead_s=float(get("lead_seconds", 5.0)),
            target_s=float(get("fanout_target", 60.0)),
            kill_halfway=bool(get("kill_halfway", False)),
            max_seconds=float(get("max_seconds", 600.0)),
            results_dir=Path(get("results_dir", RESULTS_DIR)),
        )

    def describe(self) -> dict[str, Any]:
        return {
            "groups": self.groups,
            "workspaces": self.workspaces,
            "processes": self.processes,
            "databases": self.databases,
            "chat_postMessage_latency_ms": {
                "p50": self.post_latency[0],
                "p99": self.post_latency[1],
            },
            "other_latency_ms": {"p50": self.other_latency[0], "p99": self.other_latency[1]},
            "rate_limits": {
                "per_channel_per_second": self.channel_rate,
                "channel_burst": self.channel_burst,
                "per_workspace_per_minute": self.workspace_rate,
                "workspace_burst": self.workspace_burst,
            },
            "posting_workers": self.posting_workers,
            "scheduler_interval_s": self.interval,
            "claim_lease_s": self.lease,
            "target_s": self.target_s,
            "kill_halfway": self.kill_halfway,
        }


# ---------------------------------------------------------------------- the pure parts


def prompt_posts(calls: Sequence[ApiCall]) -> list[tuple[int, float]]:
    """(step id, wall-clock time) of every prompt Slack accepted, in the log's order."""
    posts = []
    for call in calls:
        if call.method != "chat.postMessage" or call.status != 200:
            continue
        metadata = call.params.get("metadata") or {}
        if call.response.get("ok") and metadata.get("event_type") == PROMPT_EVENT:
            posts.append((int(metadata["event_payload"]["step_id"]), call.at))
    return posts


def fanout_stats(posts: Sequence[tuple[int, float]], *, seeded: int, due: float) -> dict[str, Any]:
    """What a run's accepted prompt posts say, against ``seeded`` steps due at ``due``."""
    per_step = Counter(step for step, _ in posts)
    # A step's lag is its first accepted post's; a second one is a duplicate.
    first: dict[int, float] = {}
    for step, at in posts:
        first.setdefault(step, at)
    lags = sorted(at - due for at in first.values())
    times = [at for _, at in posts]
    span = (max(times) - min(times)) if times else math.nan
    posted = len(per_step)

    def rounded(value: float) -> float | None:
        return None if math.isnan(value) else round(value, 3)

    return {
        "posted": posted,
        "duplicates": sum(n - 1 for n in per_step.values()),
        "missed": seeded - posted,
        "due_to_first_s": rounded(min(times) - due) if times else None,
        "due_to_last_s": rounded(max(times) - due) if times else None,
        "posts_per_s": round(posted / span, 1) if posted > 1 and span > 0 else None,
        "lag_p50_s": rounded(percentile(lags, 50)),
        "lag_p99_s": rounded(percentile(lags, 99)),
        "lag_max_s": rounded(lags[-1]) if lags else None,
    }


def lag_quantiles(lags: Sequence[float], points: int = 101) -> list[float]:
    """``points`` evenly spaced quantiles (0 … 100 %) of ``lags``, for the JSON results."""
    if not lags:
        return []
    return [round(percentile(lags, 100 * i / (points - 1)), 3) for i in range(points)]


def write_chart(
    runs: Sequence[tuple[str, Sequence[float]]], path: Path, *, target_s: float | None = None
) -> Path:
    """A PNG of each run's prompts over time: share posted against seconds since due
    (the lag's distribution, as every prompt falls due at once) and posts per second."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (cumulative, rate) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    for label, lags in runs:
        ordered = sorted(lags)
        if not ordered:
            continue
        share = [100.0 * (i + 1) / len(ordered) for i in range(len(ordered))]
        cumulative.plot(ordered, share, label=label, linewidth=1.5)
        seconds = math.ceil(ordered[-1]) + 1
        bins = [0] * max(seconds, 1)
        for lag in ordered:
            bins[max(0, min(int(lag), seconds - 1))] += 1
        rate.plot([i + 0.5 for i in range(len(bins))], bins, label=label, linewidth=1.2)
    for axes in (cumulative, rate):
        if target_s is not None:
            axes.axvline(target_s, color="grey", linestyle="--", linewidth=1)
        axes.grid(True, alpha=0.3)
    cumulative.set_ylabel("prompts posted (%)")
    cumulative.set_title("Prompt lag: seconds from due to the post Slack accepted")
    cumulative.legend(loc="lower right", fontsize="small")
    rate.set_ylabel("posts per second")
    rate.set_xlabel("seconds since due (= lag of the prompts posted then)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


# ---------------------------------------------------------------------- the emulator


def configure_slack(emulator: SlackEmulator, config: Config) -> None:
    """Slack's latency and rate limits, from now on (the buckets start full)."""
    emulator.set_latency(None, *config.other_latency)
    emulator.set_latency("chat.postMessage", *config.post_latency)
    emulator.set_rate_limits(
        per_channel_per_second=config.channel_rate,
        channel_burst=config.channel_burst,
        per_workspace_per_minute=config.workspace_rate,
        workspace_burst=config.workspace_burst,
    )


def add_workspaces(emulator: SlackEmulator, count: int) -> list[tuple[str, str]]:
    """(team id, bot token) of ``count`` workspaces: the emulator's own alone for 1."""
    if count == 1:
        return [(emulator.team_id, emulator.bot_token)]
    teams = [f"T0FAN{i:05d}" for i in range(count)]
    return [
        (team, emulator.add_workspace(team, name=f"Fan-out {i}")) for i, team in enumerate(teams)
    ]


def save_installations(
    engine: Engine, emulator: SlackEmulator, teams: Sequence[tuple[str, str]]
) -> None:
    """One installation per workspace in the bot's store, as after OAuth installs."""
    from slack_sdk.oauth.installation_store import Installation
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=engine)
    store.create_tables()  # type: ignore[no-untyped-call]
    # Every serve process creates these at start-up unless they exist; four starting at
    # once on PostgreSQL raced (a UniqueViolation on pg_type killed one), so made here.
    SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine).create_tables()  # type: ignore[no-untyped-call]
    scopes = list(bot_scopes())
    for team, token in teams:
        store.save(
            Installation(
                app_id=emulator.app_id,
                team_id=team,
                bot_token=token,
                bot_id=emulator.bot_id,
                bot_user_id=emulator.bot_user_id,
                bot_scopes=scopes,
                user_id=HOST,  # the installer
            )
        )


# ---------------------------------------------------------------------- seeding


def seed_fanout(
    database_url: str,
    emulator: SlackEmulator,
    teams: Sequence[tuple[str, str]],
    groups: int,
    *,
    host: str = HOST,
    prefix: str = "C0FAN",
) -> list[int]:
    """``groups`` channels spread round-robin over ``teams``, each with a plan reading one
    chapter of :data:`BOOK` every day at 09:00 (the book added once per workspace), built
    through the services. Returns the plans' ids; their steps are due tomorrow or later
    until :func:`set_due` moves them."""
    services, close = build_services(bench_settings(emulator, database_url, reminder_lead_hours=0))
    try:
        for team, _ in teams:
            services.books.add(team, host, BOOK, AUTHOR, "1")
        cadence = Cadence.every(1, clock_time(9, 0))
        today = datetime.now(UTC).date()
        plan_ids = []
        for i in range(groups):
            team = teams[i % len(teams)][0]
            channel = f"{prefix}{i:07d}"
            members = [host, emulator.bot_user_id]
            emulator.add_channel(channel, f"fanout-{i}", members=members, team_id=team)
            view = services.plans.start(Caller(team, host), channel, BOOK, cadence, 1, today, "UTC")
            assert view.plan.id is not None
            plan_ids.append(view.plan.id)
        return plan_ids
    finally:
        close()


def cpu_times() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine so far (Linux ``/proc/stat``; zeros
    elsewhere): whether the cores, not Slack's latency, bound a run."""
    try:
        fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy_pct(start: tuple[float, float] | None, end: tuple[float, float]) -> float | None:
    """How busy every core was between two :func:`cpu_times` readings (0-100)."""
    if start is None or end[1] <= start[1]:
        return None
    return round(100.0 * (end[0] - start[0]) / (end[1] - start[1]), 1)


def next_due(now: float, lead_s: float) -> float:
    """The first whole minute (epoch seconds) at least ``lead_s`` after ``now``."""
    return math.ceil((now + lead_s) / 60.0) * 60.0


def set_due(engine: Engine, due: float) -> int:
    """Make every step due at ``due`` (epoch seconds); how many steps that was."""
    with engine.begin() as conn:
        result = conn.execute(update(StepRow).values(due_at=datetime.fromtimestamp(due, UTC)))
        return int(result.rowcount or 0)


def count_posted(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(StepRow)
                .where(StepRow.state == StepState.POSTED.value)
            )
            or 0
        )


# ---------------------------------------------------------------------- processes


def spawn(
    name: str, database_url: str, emulator: SlackEmulator, workdir: Path, config: Config
) -> ServerProcess:
    """``readalong serve`` as :func:`tests.process_helpers.start_serve` starts it, with the
    bench's scheduler interval, lease and posting workers; OAuth for many workspaces."""
    settings = {
        "SCHEDULER_INTERVAL_SECONDS": str(config.interval),
        "CLAIM_LEASE_SECONDS": str(config.lease),
        "REMINDER_LEAD_HOURS": "0",  # one-step plans: no reminder DMs in the call log
        "POSTING_WORKERS": str(config.posting_workers),
        "LOG_LEVEL": "WARNING",
    }
    if config.workspaces > 1:
        settings |= {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET}
    env = readalong_env(emulator, database_url, secret=SECRET, **settings)
    if config.workspaces > 1:
        del env["SLACK_BOT_TOKEN"]  # each workspace's token comes from the installation store
    return ServerProcess(name, readalong_argv(), env=env, cwd=workdir, log_dir=workdir)


def peak_rss_mb(server: ServerProcess) -> float | None:
    try:
        return round(process_memory(server.pid)["VmHWM"] / 1024, 1)
    except (OSError, KeyError):
        return None


@contextmanager
def database(name: str) -> Iterator[str]:
    if name == "sqlite":
        with sqlite_database() as url:
            yield url
        return
    postgres = postgres_url_from_env()
    if postgres is None:
        raise SystemExit("--database postgresql needs BENCH_DATABASE_URL or TEST_DATABASE_URL")
    yield fresh_postgres(postgres)


# ---------------------------------------------------------------------- one run


def measure(db_name: str, processes: int, config: Config) -> tuple[dict[str, Any], list[float]]:
    """One run; its results and every prompt's lag (s)."""
    notes: list[str] = []
    if db_name == "sqlite" and processes > 1:
        notes.append(f"SQLite takes one posting process: {processes} asked, 1 run")
        processes = 1
    label = f"{db_name} ×{processes}" + (" (one SIGKILLed)" if config.kill_halfway else "")
    print(f"… {label}: {config.groups} groups over {config.workspaces} workspace(s)", flush=True)
    emulator = start_emulator()
    servers: list[ServerProcess] = []
    rss: dict[str, float | None] = {}
    killed: dict[str, Any] | None = None
    with ExitStack() as stack:
        stack.callback(emulator.stop)
        url = stack.enter_context(database(db_name))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fanout-")))
        engine = make_engine(url, pool_size=1, max_overflow=0)
        stack.callback(engine.dispose)

        teams = add_workspaces(emulator, config.workspaces)
        seeding = time.perf_counter()
        seed_fanout(url, emulator, teams, config.groups)
        seed_s = time.perf_counter() - seeding
        if config.workspaces > 1:
            emulator.enable_oauth(CLIENT_ID, CLIENT_SECRET)
            save_installations(engine, emulator, teams)
        print(f"  seeded in {seed_s:.1f} s", flush=True)

        def stop_all() -> None:
            for server in servers:
                server.kill()

        stack.callback(stop_all)
        starting = time.perf_counter()
        for i in range(processes):
            servers.append(spawn(f"serve-{i}", url, emulator, workdir, config))
        for server in servers:
            server.wait_listening(60)
        startup_s = time.perf_counter() - starting
        time.sleep(2 * config.interval)  # a tick or two with nothing due: idle
        for server in servers:
            server.check_alive()

        since = len(emulator.calls_to("chat.postMessage"))
        due = next_due(time.time(), config.lead_s)
        moved = set_due(engine, due)
        configure_slack(emulator, config)
        print(
            f"  {processes} process(es) up in {startup_s:.1f} s; due in {due - time.time():.0f} s",
            flush=True,
        )

        deadline = due + config.max_seconds
        posted_db = 0
        cpu_at_due: tuple[float, float] | None = None
        while time.time() < deadline:
            if cpu_at_due is None and time.time() >= due:
                cpu_at_due = cpu_times()
            posted_db = count_posted(engine)
            if posted_db >= moved:
                break
            if config.kill_halfway and killed is None and posted_db >= moved // 2:
                victim = servers[0]
                role = victim.role()
                rss[victim.name] = peak_rss_mb(victim)
                os.kill(victim.pid, signal.SIGKILL)
                victim.process.wait(timeout=10)
                killed = {
                    "process": victim.name,
                    "role": role,
                    "posted_before": posted_db,
                    "at_s": round(time.time() - due, 2),
                }
                servers.remove(victim)
                if not servers:  # one process: start another, as a supervisor would
                    replacement = spawn("serve-restarted", url, emulator, workdir, config)
                    servers.append(replacement)
                    replacement.wait_listening(60)
                    notes.append("one process: killed and a new one started in its place")
            if not any(server.alive() for server in servers):
                notes.append("every process exited")
                break
            time.sleep(0.25)
        finished = posted_db >= moved
        cpu_busy = cpu_busy_pct(cpu_at_due, cpu_times())
        if finished:
            time.sleep(max(2.0, 2 * config.interval))  # room for a late duplicate to show
        for server in servers:
            rss[server.name] = peak_rss_mb(server)
            if not server.alive():
                notes.append(f"{server.name} exited with {server.process.returncode}")
        for server in servers:
            server.stop()
        calls = emulator.calls_to("chat.postMessage")[since:]
        marked = count_posted(engine)
        logs = {
            s.name: s.log_tail(5)
            for s in servers
            if "Traceback" in s.log_text() or "ERROR" in s.log_text()
        }

    posts = prompt_posts(calls)
    stats = fanout_stats(posts, seeded=moved, due=due)
    first: dict[int, float] = {}
    for step, at in posts:
        first.setdefault(step, at)
    lags = sorted(at - due for at in first.values())
    peaks = [value for value in rss.values() if value is not None]
    result: dict[str, Any] = {
        "label": label,
        "database": db_name,
        "url": redact(url),
        "processes": processes,
        "workspaces": config.workspaces,
        "groups": config.groups,
        "seed_s": round(seed_s, 1),
        "startup_s": round(startup_s, 1),
        "due_at": datetime.fromtimestamp(due, UTC).isoformat(),
        **stats,
        "cpu_busy_pct": cpu_busy,  # the whole machine's, from due to the last post
        "rate_limited_429": sum(1 for call in calls if call.status == 429),
        "other_failures": sum(1 for call in calls if call.status not in (200, 429)),
        "marked_posted": marked,
        "peak_rss_mb": rss,
        "peak_rss_max_mb": max(peaks) if peaks else None,
        "killed": killed,
        "notes": notes,
        "lag_quantiles_s": lag_quantiles(lags),
    }
    if logs:
        result["log_errors"] = logs
    result["within_target"] = bool(
        finished
        and stats["missed"] == 0
        and stats["duplicates"] == 0
        and marked == moved
        and stats["due_to_last_s"] is not None
        and stats["due_to_last_s"] <= config.target_s
        and (not peaks or max(peaks) < RSS_LIMIT_MB)
    )
    return result, lags


# ---------------------------------------------------------------------- the benchmark


def scaling(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """PostgreSQL's posts/s with k processes over one's (runs without a kill)."""
    rates = {
        r["processes"]: r["posts_per_s"]
        for r in results
        if r["database"] == "postgresql" and not r["killed"] and r["posts_per_s"]
    }
    if 1 not in rates:
        return {}
    out: dict[str, Any] = {}
    for k, rate in sorted(rates.items()):
        if k == 1:
            continue
        ratio = round(rate / rates[1], 2)
        target = SCALING_TARGETS.get(k)
        out[str(k)] = {
            "ratio": ratio,
            "target": target,
            "ok": None if target is None else ratio >= target,
        }
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    quiet_logging()
    config = Config.from_args(args)
    results: list[dict[str, Any]] = []
    chart_runs: list[tuple[str, list[float]]] = []
    for db_name in config.databases:
        counts = [1] if db_name == "sqlite" else config.processes
        for processes in counts:
            result, lags = measure(db_name, processes, config)
            results.append(result)
            chart_runs.append((result["label"], lags))
            print(f"  {_summary(result)}", flush=True)
            # Saved as each run ends, so a later run's failure loses nothing.
            save_results("prompt_fanout.partial", {"results": results}, config.results_dir)
    chart = write_chart(
        chart_runs, config.results_dir / "prompt_fanout.png", target_s=config.target_s
    )
    scale = scaling(results)
    print()
    print(
        f"{config.groups} groups over {config.workspaces} workspace(s) due at one whole minute, "
        f"posted by readalong serve (scheduler every {config.interval} s, "
        f"POSTING_WORKERS={config.posting_workers}); Slack emulated: chat.postMessage "
        f"{config.post_latency[0]:g}/{config.post_latency[1]:g} ms p50/p99, others "
        f"{config.other_latency[0]:g}/{config.other_latency[1]:g} ms; limits "
        f"{config.channel_rate:g}/s per channel (burst {config.channel_burst}), "
        f"{config.workspace_rate:g}/min per workspace (burst {config.workspace_burst}). "
        f"Target: all within {config.target_s:g} s of due, 0 duplicates, 0 missed, "
        f"peak RSS < {RSS_LIMIT_MB:g} MB"
    )
    print()
    print(
        markdown_table(
            [
                "run",
                "seed s",
                "due→last s",
                "posts/s",
                "lag p50 s",
                "lag p99 s",
                "dup",
                "missed",
                "429s",
                "peak RSS MB",
                "CPU busy %",
                "ok",
            ],
            [
                [
                    r["label"],
                    r["seed_s"],
                    _num(r["due_to_last_s"]),
                    _num(r["posts_per_s"]),
                    _num(r["lag_p50_s"]),
                    _num(r["lag_p99_s"]),
                    r["duplicates"],
                    r["missed"],
                    r["rate_limited_429"],
                    _num(r["peak_rss_max_mb"]),
                    _num(r["cpu_busy_pct"]),
                    "yes" if r["within_target"] else "NO",
                ]
                for r in results
            ],
        )
    )
    for r in results:
        for note in r["notes"]:
            print(f"note ({r['label']}): {note}")
    for k, row in scale.items():
        print(f"PostgreSQL ×{k} / ×1 posts/s: {row['ratio']} (target {row['target']})")
    print(f"chart: {chart}")
    return {
        "config": config.describe(),
        "results": results,
        "scaling": scale,
        "chart": str(chart),
        "passed": all(r["within_target"] for r in results)
        and all(row["ok"] is not False for row in scale.values()),
    }


def _summary(r: dict[str, Any]) -> str:
    keys = ("due_to_last_s", "posts_per_s", "lag_p50_s", "lag_p99_s", "duplicates", "missed")
    figures = ", ".join(f"{key} {r[key]}" for key in keys)
    return (
        f"{r['label']}: {figures}, 429s {r['rate_limited_429']}, "
        f"RSS {r['peak_rss_max_mb']} MB, CPU busy {r['cpu_busy_pct']}%"
    )


def _num(value: float | None) -> float | str:
    return "n/a" if value is None else float(value)


def main() -> int:
    from bench.common import save_results

    parser = argparse.ArgumentParser(prog="python -m bench.prompt_fanout", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args()
    data = run(args)
    path = save_results("prompt_fanout", data, RESULTS_DIR)
    print(f"\nSaved {path}")
    return 0 if data["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
