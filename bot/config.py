"""Settings: a YAML file overridden by environment variables, validated at start.

Precedence (highest first): explicit overrides, environment variables (named like the
setting, in any case), the YAML file named by ``READALONG_CONFIG`` (default
``./config.yaml`` when present), defaults. A bad setting stops the program with one line
naming it (:class:`ConfigError`).

The loader is this module's own, not pydantic-settings: pydantic was the only thing that
needed pydantic, and it is ~20 MiB of every process's memory and ~0.15 s of its start.
Each setting is a dataclass field with its type and limits; :func:`_convert` turns a
value from YAML (typed) or the environment (text) into that type, or says why not.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import MISSING, dataclass, field, fields
from datetime import time
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from bot.domain.errors import InvalidInput
from bot.domain.schedule import WEEKDAY_NAMES, parse_timezone, parse_weekday

DEFAULT_CONFIG_FILE = "config.yaml"
UNKNOWN = "unknown setting (see config.example.yaml for the list)"


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it in one line."""


class _Invalid(ValueError):
    """A value that does not fit its setting; the message says why (no name)."""


def _limits(default: Any, **bounds: float) -> Any:
    """A field with bounds: ``ge``, ``gt``, ``le`` (inclusive unless ``gt``)."""
    return field(default=default, metadata=bounds)


@dataclass(init=False)
class Settings:
    """Every setting Readalong reads. ``config.example.yaml`` documents each one.

    ``Settings(**overrides)`` reads the sources (see the module's docstring) under the
    overrides; ``dataclasses.replace(settings, name=value)`` gives a validated copy.
    """

    # Slack connection
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_admins: list[str] = field(default_factory=list)

    # Storage
    database_url: str = "sqlite:///./readalong.db"

    # HTTP server
    host: str = "127.0.0.1"
    port: int = _limits(3000, ge=0, le=65535)  # 0: any free port
    # Where people reach `readalong serve` (https://readalong.example.com): the base of
    # the calendar links it gives out. Empty: the address it listens on.
    public_url: str = ""

    # Defaults for new reading plans
    default_timezone: str = "UTC"
    default_weekday: str = "monday"
    default_time: time = time(9, 0)
    default_chapters_per_step: int = _limits(1, ge=1, le=100)

    # Scheduling
    scheduler_enabled: bool = True
    scheduler_interval_seconds: int = _limits(30, ge=1, le=3600)
    reminder_lead_hours: float = _limits(24.0, ge=0, le=24 * 14)
    misfire_grace_hours: float = _limits(12.0, ge=0, le=24 * 30)
    digest_schedule: Literal["step", "weekly"] = "step"
    digest_weekday: str = "friday"
    digest_time: time = time(17, 0)
    claim_lease_seconds: int = _limits(300, ge=5, le=24 * 3600)
    post_flight_seconds: float = _limits(60.0, ge=1, le=24 * 3600)
    channel_post_interval_seconds: float = _limits(1.0, ge=0, le=60)
    # Posts (prompts, reminders, digests) in flight at once per process: Slack's latency,
    # not the CPU, bounds a posting process, so many threads wait on it together.
    posting_workers: int = _limits(64, ge=1, le=256)

    # Python hands its interpreter lock between threads at most this often (ms). Lower
    # lets a request being acknowledged cut in sooner on background work.
    gil_switch_interval_ms: float = _limits(0.5, gt=0, le=100)

    # Mentoring pairs: who runs the programme (the cohort view, quiet-pair alerts; the
    # Slack admins above too), and after how many quiet days a pair is flagged to them.
    mentoring_admins: list[str] = field(default_factory=list)
    pair_quiet_days: int = _limits(21, ge=1, le=365)

    # Logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    def __init__(self, **overrides: Any) -> None:
        specs = _specs()
        unknown = sorted(set(overrides) - set(specs))
        if unknown:
            raise ConfigError(f"config error: {unknown[0].upper()}: {UNKNOWN}")
        # A copy (dataclasses.replace) names every setting: no source is read for it.
        values = {} if set(overrides) >= set(specs) else _from_sources(specs)
        values.update(overrides)
        for name, spec in specs.items():
            raw = values[name] if name in values else spec.default()
            try:
                value = _convert(raw, spec)
                check = _VALIDATORS.get(name)
                object.__setattr__(self, name, check(value) if check else value)
            except _Invalid as exc:
                raise ConfigError(f"config error: {name.upper()}: {exc}") from None

    @property
    def has_slack_credentials(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret) or bool(
            self.slack_client_id and self.slack_client_secret and self.slack_signing_secret
        )


# ---------------------------------------------------------------------- validators


def _known_timezone(value: str) -> str:
    """The same rule as a plan's `tz` (bot.domain.schedule.parse_timezone)."""
    try:
        return parse_timezone(value)
    except InvalidInput as exc:
        raise _Invalid(f"unknown IANA time zone {value!r}: {exc.message}") from None


def _weekday(value: str) -> str:
    """The same rule as `every <weekday>` (bot.domain.schedule.parse_weekday)."""
    try:
        return WEEKDAY_NAMES[parse_weekday(value)]
    except InvalidInput:
        raise _Invalid(f"{value!r} is not a weekday (monday … sunday)") from None


def _api_url(value: str) -> str:
    if not re.match(r"^https?://", value):
        raise _Invalid("must be an http(s) URL such as https://slack.com/api/")
    return value if value.endswith("/") else value + "/"


def _database_url(value: str) -> str:
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
        raise _Invalid("must be a sqlite:/// or postgresql:// URL")
    if value.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
    return value


def _public_url(value: str) -> str:
    if value and not re.match(r"^https?://[^/\s]+", value):
        raise _Invalid("must be empty or the http(s) URL people reach readalong serve at")
    return value.rstrip("/")


_VALIDATORS: dict[str, Any] = {
    "public_url": _public_url,
    "default_timezone": _known_timezone,
    "default_weekday": _weekday,
    "digest_weekday": _weekday,
    "slack_api_url": _api_url,
    "database_url": _database_url,
}


# ---------------------------------------------------------------------- types


@dataclass(frozen=True)
class _Spec:
    """One setting: its type (``kind``), whether it may be None, its choices and bounds."""

    name: str
    kind: type
    optional: bool
    choices: tuple[str, ...]
    bounds: dict[str, float]
    default_value: Any
    default_factory: Any

    def default(self) -> Any:
        return self.default_factory() if self.default_factory is not MISSING else self.default_value


@cache
def _specs() -> dict[str, _Spec]:
    hints = get_type_hints(Settings)
    specs: dict[str, _Spec] = {}
    for item in fields(Settings):
        hint = hints[item.name]
        args = get_args(hint)
        optional = get_origin(hint) in (Union, UnionType) and type(None) in args
        if optional:
            hint = next(a for a in args if a is not type(None))
        choices: tuple[str, ...] = ()
        if get_origin(hint) is Literal:
            choices, kind = tuple(get_args(hint)), str
        else:
            kind = get_origin(hint) or hint
        specs[item.name] = _Spec(
            item.name,
            kind,
            optional,
            choices,
            dict(item.metadata),
            item.default,
            item.default_factory,
        )
    return specs


_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _convert(value: Any, spec: _Spec) -> Any:
    """``value`` (typed, from YAML or an override, or text from the environment) as
    ``spec``'s type, or :class:`_Invalid` saying why not."""
    if value is None:
        if spec.optional:
            return None
        raise _Invalid("a value is required")
    text = value if isinstance(value, str) else None
    kind = spec.kind
    converted: Any
    if spec.choices:
        if value not in spec.choices:
            options = ", ".join(repr(c) for c in spec.choices[:-1])
            raise _Invalid(f"must be {options} or {spec.choices[-1]!r}, not {value!r}")
        return value
    if kind is str:
        if text is None:
            raise _Invalid(f"must be text, not {value!r} (put it in quotes)")
        return text
    if kind is bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise _Invalid(f"must be a boolean (true or false), not {value!r}")
    if kind is int:
        if isinstance(value, bool):
            raise _Invalid(f"must be an integer, not {value!r}")
        try:
            converted = int(text.strip()) if text is not None else int(value)
        except (TypeError, ValueError):
            raise _Invalid(f"must be an integer, not {value!r}") from None
        if not isinstance(value, int | str) and converted != value:
            raise _Invalid(f"must be an integer, not {value!r}")
        return _within(converted, spec)
    if kind is float:
        if isinstance(value, bool):
            raise _Invalid(f"must be a number, not {value!r}")
        try:
            converted = float(text.strip()) if text is not None else float(value)
        except (TypeError, ValueError):
            raise _Invalid(f"must be a number, not {value!r}") from None
        return _within(converted, spec)
    if kind is time:
        return _time(value)
    if kind is list:
        if text is not None:  # from the environment: a JSON list
            try:
                value = json.loads(text)
            except ValueError:
                raise _Invalid(
                    'cannot parse the value (give a list as JSON, e.g. ["U123","U456"])'
                ) from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Invalid(f"must be a list of texts, not {value!r}")
        return list(value)
    raise _Invalid(
        f"cannot read a {kind.__name__}"
    )  # pragma: no cover - every field's kind is above


def _within(number: float, spec: _Spec) -> Any:
    bounds = spec.bounds
    if "ge" in bounds and number < bounds["ge"]:
        raise _Invalid(f"must be greater than or equal to {_plain(bounds['ge'])}, not {number}")
    if "gt" in bounds and number <= bounds["gt"]:
        raise _Invalid(f"must be greater than {_plain(bounds['gt'])}, not {number}")
    if "le" in bounds and number > bounds["le"]:
        raise _Invalid(f"must be less than or equal to {_plain(bounds['le'])}, not {number}")
    return number


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 17:00 as the number 1020 (base 60): say so, rather
        # than guess between hours:minutes and minutes:seconds.
        raise _Invalid(f"write the time in quotes, e.g. '17:00' (YAML read a number, {value})")
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match:
        hour, minute, second = (int(part or 0) for part in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise _Invalid(f"must be a time of day such as '09:00', not {value!r}")


# ---------------------------------------------------------------------- sources


def _from_sources(specs: dict[str, _Spec]) -> dict[str, Any]:
    """The YAML file's values, overridden by the environment's."""
    values: dict[str, Any] = {}
    path = _config_path()
    if path is not None:
        document = _read_yaml(path)
        for key, value in document.items():
            name = str(key).lower()
            if name not in specs:
                raise ConfigError(f"config error: {str(key).upper()}: {UNKNOWN}")
            values[name] = value
    by_upper = {name.upper(): name for name in specs}
    for key, text in os.environ.items():
        setting = by_upper.get(key.upper())
        if setting is not None:
            values[setting] = text
    return values


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml  # only when there is a file to read

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:  # unreadable or malformed YAML
        raise ConfigError(_not_yaml(path, " ".join(str(exc).split()))) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(_not_yaml(path, f"a {type(document).__name__}, not a mapping"))
    return document


def _not_yaml(path: Path, reason: str) -> str:
    return f"config error: READALONG_CONFIG: {path} is not valid YAML ({reason})"


def _config_path() -> Path | None:
    named = os.environ.get("READALONG_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"config error: READALONG_CONFIG: no such file {named!r}")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def setting_names() -> tuple[str, ...]:
    """Every setting's name (lower case; its environment variable is the same in capitals)."""
    return tuple(_specs())


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings, or raise :class:`ConfigError` naming the bad one."""
    return Settings(**overrides)
