"""Settings: a YAML file overridden by environment variables, validated at start.

Precedence (highest first): explicit overrides, environment variables, the YAML file
named by ``READALONG_CONFIG`` (default ``./config.yaml`` when present), defaults.
A bad setting stops the program with one line naming it (:class:`ConfigError`).
"""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    YamlConfigSettingsSource,
)

from bot.domain.errors import InvalidInput
from bot.domain.schedule import WEEKDAY_NAMES, parse_timezone, parse_weekday

DEFAULT_CONFIG_FILE = "config.yaml"


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it in one line."""


class Settings(BaseSettings):
    """Every setting Readalong reads. ``config.example.yaml`` documents each one."""

    model_config = SettingsConfigDict(extra="forbid", case_sensitive=False, validate_default=True)

    # Slack connection
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_admins: list[str] = Field(default_factory=list)

    # Storage
    database_url: str = "sqlite:///./readalong.db"

    # HTTP server
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=0, le=65535)  # 0: any free port

    # Defaults for new reading plans
    default_timezone: str = "UTC"
    default_weekday: str = "monday"
    default_time: time = time(9, 0)
    default_chapters_per_step: int = Field(default=1, ge=1, le=100)

    # Scheduling
    scheduler_enabled: bool = True
    scheduler_interval_seconds: int = Field(default=30, ge=1, le=3600)
    reminder_lead_hours: float = Field(default=24.0, ge=0, le=24 * 14)
    misfire_grace_hours: float = Field(default=12.0, ge=0, le=24 * 30)
    digest_schedule: Literal["step", "weekly"] = "step"
    digest_weekday: str = "friday"
    digest_time: time = time(17, 0)
    claim_lease_seconds: int = Field(default=300, ge=5, le=24 * 3600)
    post_flight_seconds: float = Field(default=60.0, ge=1, le=24 * 3600)
    channel_post_interval_seconds: float = Field(default=1.0, ge=0, le=60)

    # Python hands its interpreter lock between threads at most this often (ms). Lower
    # lets a request being acknowledged cut in sooner on background work.
    gil_switch_interval_ms: float = Field(default=0.5, gt=0, le=100)

    # Mentoring pairs: who runs the programme (the cohort view, quiet-pair alerts; the
    # Slack admins above too), and after how many quiet days a pair is flagged to them.
    mentoring_admins: list[str] = Field(default_factory=list)
    pair_quiet_days: int = Field(default=21, ge=1, le=365)

    # Logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        """The same rule as a plan's `tz` (bot.domain.schedule.parse_timezone)."""
        try:
            return parse_timezone(value)
        except InvalidInput as exc:
            raise ValueError(f"unknown IANA time zone {value!r}: {exc.message}") from None

    @field_validator("default_weekday", "digest_weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        """The same rule as `every <weekday>` (bot.domain.schedule.parse_weekday)."""
        try:
            return WEEKDAY_NAMES[parse_weekday(value)]
        except InvalidInput:
            raise ValueError(f"{value!r} is not a weekday (monday … sunday)") from None

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://", value):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        if value.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_path()
        if path is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)

    @property
    def has_slack_credentials(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret) or bool(
            self.slack_client_id and self.slack_client_secret and self.slack_signing_secret
        )


def _config_path() -> Path | None:
    named = os.environ.get("READALONG_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"config error: READALONG_CONFIG: no such file {named!r}")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings, or raise :class:`ConfigError` naming the bad one."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"]) or "config"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting (see config.example.yaml for the list)"
        raise ConfigError(f"config error: {name.upper()}: {message}") from None
    except SettingsError as exc:  # an environment value that is not valid JSON for a list
        field = re.search(r'field "(\w+)"', str(exc))
        name = field.group(1).upper() if field else "config"
        raise ConfigError(
            f"config error: {name}: cannot parse the value (give a list as JSON, e.g. "
            '["U123","U456"])'
        ) from None
    except (OSError, ValueError, yaml.YAMLError) as exc:  # unreadable or malformed YAML
        where = os.environ.get("READALONG_CONFIG") or DEFAULT_CONFIG_FILE
        reason = " ".join(str(exc).split())
        raise ConfigError(
            f"config error: READALONG_CONFIG: {where} is not valid YAML ({reason})"
        ) from None
