"""Settings: defaults, YAML file, environment overrides, and one-line errors naming the setting."""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, setting_names


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting leaks in from the environment or a config.yaml in the working directory."""
    names = {name.upper() for name in setting_names()} | {"READALONG_CONFIG"}
    for key in list(os.environ):
        if key.upper() in names:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    path = tmp_path / "readalong.yaml"
    path.write_text(body, encoding="utf-8")
    monkeypatch.setenv("READALONG_CONFIG", str(path))
    return path


def config_error(**overrides: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    message = str(caught.value)
    assert "\n" not in message, message
    assert message.startswith("config error: ")
    return message


def test_defaults() -> None:
    s = load_settings()
    assert s.database_url == "sqlite:///./readalong.db"
    assert (s.host, s.port) == ("127.0.0.1", 3000)
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.slack_bot_token is None and s.slack_admins == []
    assert (s.default_timezone, s.default_weekday, s.default_time, s.default_chapters_per_step) == (
        "UTC",
        "monday",
        time(9, 0),
        1,
    )
    assert s.scheduler_enabled and s.scheduler_interval_seconds == 30
    assert (s.log_level, s.log_format) == ("INFO", "text")
    assert not s.has_slack_credentials


def test_yaml_file_overridden_by_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_yaml(
        tmp_path,
        monkeypatch,
        "port: 4000\nhost: 0.0.0.0\ndefault_timezone: Europe/Berlin\ndefault_weekday: Wed\n"
        "default_time: '18:30'\nslack_admins: [U1, U2]\nslack_api_url: http://localhost:9000/api\n",
    )
    s = load_settings()
    assert (s.port, s.host, s.default_timezone, s.default_weekday) == (
        4000,
        "0.0.0.0",
        "Europe/Berlin",
        "wednesday",
    )
    assert s.default_time == time(18, 30)
    assert s.slack_admins == ["U1", "U2"]
    assert s.slack_api_url == "http://localhost:9000/api/"
    monkeypatch.setenv("PORT", "5000")
    monkeypatch.setenv("default_weekday", "fri")  # case-insensitive names
    s = load_settings()
    assert (s.port, s.default_weekday, s.host) == (5000, "friday", "0.0.0.0")
    assert load_settings(port=6000).port == 6000  # explicit overrides beat everything


def test_config_yaml_in_the_working_directory_is_read(clean_env: Path) -> None:
    (clean_env / "config.yaml").write_text("log_level: DEBUG\n", encoding="utf-8")
    assert load_settings().log_level == "DEBUG"


def test_empty_yaml_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_yaml(tmp_path, monkeypatch, "")
    assert load_settings().port == 3000


def test_slack_credentials() -> None:
    assert load_settings(slack_bot_token="xoxb-1", slack_signing_secret="s").has_slack_credentials
    assert not load_settings(slack_bot_token="xoxb-1").has_slack_credentials
    assert load_settings(
        slack_client_id="i", slack_client_secret="c", slack_signing_secret="s"
    ).has_slack_credentials


def test_postgresql_url_gets_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/readalong")
    assert load_settings().database_url == "postgresql+psycopg://u:p@db:5432/readalong"
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/r")
    assert load_settings().database_url == "postgresql+psycopg://u@db/r"
    monkeypatch.setenv("DATABASE_URL", "sqlite:////var/lib/readalong.db")
    assert load_settings().database_url == "sqlite:////var/lib/readalong.db"


@pytest.mark.parametrize(
    ("body", "setting", "words"),
    [
        ("colour: blue\n", "COLOUR", "unknown setting"),
        ("port: many\n", "PORT", "integer"),
        ("port: 70000\n", "PORT", "65535"),
        ("scheduler_enabled: perhaps\n", "SCHEDULER_ENABLED", "boolean"),
        ("default_timezone: Mars/Olympus\n", "DEFAULT_TIMEZONE", "unknown IANA time zone"),
        ("default_timezone: Europe\n", "DEFAULT_TIMEZONE", "unknown IANA time zone"),
        ("default_weekday: someday\n", "DEFAULT_WEEKDAY", "not a weekday"),
        ("default_weekday: t\n", "DEFAULT_WEEKDAY", "not a weekday"),
        ("default_time: '25:00'\n", "DEFAULT_TIME", "time"),
        ("database_url: mysql://u@h/db\n", "DATABASE_URL", "sqlite:/// or postgresql://"),
        ("database_url: readalong.db\n", "DATABASE_URL", "sqlite:/// or postgresql://"),
        ("log_level: verbose\n", "LOG_LEVEL", "DEBUG"),
        ("slack_api_url: ftp://x\n", "SLACK_API_URL", "http"),
    ],
)
def test_bad_yaml_values_name_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, setting: str, words: str
) -> None:
    write_yaml(tmp_path, monkeypatch, body)
    message = config_error()
    assert message.startswith(f"config error: {setting}: ")
    assert words in message


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("PORT", "abc", "integer"),
        ("DEFAULT_TIMEZONE", "Nowhere/Land", "unknown IANA time zone"),
        ("DEFAULT_TIMEZONE", "", "unknown IANA time zone"),
        ("DEFAULT_WEEKDAY", "funday", "not a weekday"),
        ("DATABASE_URL", "mysql://root@localhost/db", "sqlite:/// or postgresql://"),
        ("SLACK_ADMINS", "U1,U2", "JSON"),
    ],
)
def test_bad_environment_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str
) -> None:
    monkeypatch.setenv(name, value)
    message = config_error()
    assert message.startswith(f"config error: {name}: ")
    assert words in message


def test_missing_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("READALONG_CONFIG", str(tmp_path / "nope.yaml"))
    message = config_error()
    assert message.startswith("config error: READALONG_CONFIG: no such file")
    assert "nope.yaml" in message


@pytest.mark.parametrize(
    "body",
    ["port: [1\n", "port: 1\n  bad: indent\n", "- a list\n- not a mapping\n", "key: 'unclosed\n"],
)
def test_malformed_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    path = write_yaml(tmp_path, monkeypatch, body)
    message = config_error()
    assert message.startswith("config error: READALONG_CONFIG: ")
    assert str(path) in message and "not valid YAML" in message


def test_environment_values_are_read_as_their_setting_types(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCHEDULER_ENABLED", "no")
    monkeypatch.setenv("slack_admins", '["U1", "U2"]')
    monkeypatch.setenv("REMINDER_LEAD_HOURS", "1.5")
    monkeypatch.setenv("DIGEST_TIME", "7:05:30")
    s = load_settings()
    assert s.scheduler_enabled is False and s.slack_admins == ["U1", "U2"]
    assert s.reminder_lead_hours == 1.5 and s.digest_time == time(7, 5, 30)
    monkeypatch.setenv("SCHEDULER_ENABLED", "On")
    assert load_settings().scheduler_enabled is True


@pytest.mark.parametrize(
    ("body", "setting", "words"),
    [
        ("digest_time: 17:00\n", "DIGEST_TIME", "write the time in quotes"),  # YAML: 1020
        ("host: 127\n", "HOST", "must be text"),
        ("slack_client_id: 1234567890.1234\n", "SLACK_CLIENT_ID", "put it in quotes"),
        ("gil_switch_interval_ms: 0\n", "GIL_SWITCH_INTERVAL_MS", "greater than 0"),
        ("claim_lease_seconds: 4\n", "CLAIM_LEASE_SECONDS", "greater than or equal to 5"),
        ("port: 3000.5\n", "PORT", "integer"),
        ("port: true\n", "PORT", "integer"),
        ("slack_admins: U1\n", "SLACK_ADMINS", "list"),
        ("digest_schedule: daily\n", "DIGEST_SCHEDULE", "'step' or 'weekly'"),
        ("Database_URL: mysql://x\n", "DATABASE_URL", "sqlite:/// or postgresql://"),
    ],
)
def test_more_bad_yaml_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, setting: str, words: str
) -> None:
    write_yaml(tmp_path, monkeypatch, body)
    message = config_error()
    assert message.startswith(f"config error: {setting}: "), message
    assert words in message


def test_a_copy_is_validated_and_reads_no_source(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    settings = load_settings(port=4000)
    monkeypatch.setenv("PORT", "not a port")  # a copy names every setting: this is not read
    copy = dataclasses.replace(settings, host="0.0.0.0", database_url="postgresql://u@db/r")
    assert (copy.host, copy.port) == ("0.0.0.0", 4000)
    assert copy.database_url == "postgresql+psycopg://u@db/r"
    with pytest.raises(ConfigError, match=r"^config error: PORT: must be less than"):
        dataclasses.replace(settings, port=70000)
    with pytest.raises(ConfigError, match=r"^config error: COLOUR: unknown setting"):
        load_settings(colour="blue")
    assert "port" in setting_names() and "PORT" not in setting_names()
