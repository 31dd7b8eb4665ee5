"""``python -m bench [name ...]``: run the named benchmarks (default: all of them).

A benchmark is any module in this package (other than ``common`` and private ones)
that defines ``run(args: argparse.Namespace) -> dict``. It prints its own report and
returns what it measured; this runner saves that, with the machine's description, to
``bench/results/<name>.json``. A module may also define
``add_arguments(parser: argparse.ArgumentParser) -> None`` for options of its own.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import bench
from bench.common import RESULTS_DIR, save_results

NOT_BENCHMARKS = frozenset({"common"})

Runner = Callable[[argparse.Namespace], dict[str, Any]]


def discover() -> dict[str, ModuleType]:
    """Every benchmark module, by name, in alphabetical order."""
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in NOT_BENCHMARKS or info.ispkg:
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "run", None)):
            found[info.name] = module
    return found


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {value}")
    return number


def _count(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value)
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be ≥ {minimum}, not {value}")
        return number

    return parse


def build_parser(benchmarks: dict[str, ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Readalong's benchmarks (loopback only; each stops by itself).",
    )
    parser.add_argument(
        "names", nargs="*", metavar="name", help=f"benchmarks to run: {', '.join(benchmarks)}"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--rate", type=_positive_float, default=40.0, help="requests per second (default 40)"
    )
    parser.add_argument(
        "--requests",
        type=_count(1),
        default=400,
        help="measured requests per target (default 400)",
    )
    parser.add_argument(
        "--warmup", type=_count(0), default=30, help="uncounted requests first (default 30)"
    )
    parser.add_argument(
        "--concurrency",
        type=_count(1),
        default=4,
        help="sender threads, so a slow answer does not delay the next send (default 4)",
    )
    parser.add_argument(
        "--max-seconds",
        type=_positive_float,
        default=600.0,
        help="stop sending once a benchmark has run this long (default 600)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        help=f"where to write <name>.json (default {RESULTS_DIR})",
    )
    for module in benchmarks.values():
        add_arguments = getattr(module, "add_arguments", None)
        if callable(add_arguments):
            add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    benchmarks = discover()
    parser = build_parser(benchmarks)
    args = parser.parse_args(argv)
    if args.list:
        for name, module in benchmarks.items():
            summary = (module.__doc__ or "").strip().splitlines()
            print(f"{name}: {summary[0] if summary else ''}")
        return 0
    unknown = [name for name in args.names if name not in benchmarks]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (have: {', '.join(benchmarks)})")
    for name in args.names or list(benchmarks):
        print(f"## {name}", flush=True)
        started = time.monotonic()
        run = cast(Runner, benchmarks[name].run)
        data = run(args)
        data.setdefault("elapsed_s", round(time.monotonic() - started, 1))
        path = save_results(name, data, args.results_dir)
        print(f"\nSaved {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
