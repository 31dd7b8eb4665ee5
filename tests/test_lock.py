"""The lock files in requirements/ satisfy pyproject.toml, pin everything and hash it all.

They are what `make run`, `make test` and CI install (pip --require-hashes): a dependency
added to pyproject.toml without `make lock` fails here, not on someone's fresh clone.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "requirements" / "runtime.txt"
DEV = ROOT / "requirements" / "dev.txt"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")


def pins(path: Path) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) for every requirement in a lock file."""
    found: dict[str, tuple[str, int]] = {}
    entries = re.split(r"\n(?=\S)", path.read_text(encoding="utf-8"))
    for entry in entries:
        first = entry.split("\n", 1)[0]
        if not first or first.startswith("#"):
            continue
        match = PIN.match(first)
        assert match, f"{path.name}: not an exact pin: {first!r}"
        name = canonicalize_name(match.group("name"))
        found[name] = (match.group("version"), entry.count("--hash=sha256:"))
    return found


def project() -> dict[str, list[Requirement]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"runtime": data["dependencies"], **data["optional-dependencies"]}
    return {group: [Requirement(r) for r in reqs] for group, reqs in groups.items()}


@pytest.mark.parametrize(
    ("lock", "groups"), [(RUNTIME, ("runtime", "postgres")), (DEV, ("runtime", "dev"))]
)
def test_every_range_is_met_by_a_hashed_pin(lock: Path, groups: tuple[str, ...]) -> None:
    locked = pins(lock)
    assert len(locked) > 20
    for group in groups:
        for requirement in project()[group]:
            name = canonicalize_name(requirement.name)
            assert name != "readalong", "a self-reference would be locked as a path"
            assert name in locked, f"{requirement} is not in {lock.name}: run `make lock`"
            version, _hashes = locked[name]
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock.name} pins {name}=={version}, outside {requirement}: run `make lock`"
            )
    unhashed = sorted(name for name, (_v, hashes) in locked.items() if hashes == 0)
    assert unhashed == []


def test_dev_installs_the_runtime_versions() -> None:
    runtime, dev = pins(RUNTIME), pins(DEV)
    assert set(runtime) <= set(dev)
    moved = {name: (runtime[name][0], dev[name][0]) for name in runtime}
    assert {name: pair for name, pair in moved.items() if pair[0] != pair[1]} == {}


def test_the_lock_files_name_no_local_index_or_path() -> None:
    for lock in (RUNTIME, DEV):
        text = lock.read_text(encoding="utf-8")
        assert "--index-url" not in text and "--find-links" not in text
        assert "file://" not in text and " @ " not in text
        assert "make lock" in text  # the header says how it was made
