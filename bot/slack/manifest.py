"""The Slack app manifest the package ships (``bot/slack/manifest.yaml``, a copy of the
repository's ``manifest.yaml``): what the app asks Slack for, read where it is needed.

The bot scopes it declares are the ones an OAuth install asks for and the ones
``readalong check`` expects the token to carry. A slash command declared with
``should_escape: true`` gets mentions as ``<@U…|name>`` (else as the plain ``@name`` a
member typed); the emulator plays Slack with these declarations.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

MANIFEST_FILE = "manifest.yaml"


@cache
def manifest() -> dict[str, Any]:
    """The packaged manifest, parsed (once per process)."""
    import yaml  # already loaded by the settings; kept local so importing this is free

    text = files(__package__ or "bot.slack").joinpath(MANIFEST_FILE).read_text("utf-8")
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ValueError(f"{MANIFEST_FILE} is not a YAML mapping")
    return document


def bot_scopes() -> tuple[str, ...]:
    """``oauth_config.scopes.bot``: every scope the bot token needs, in the manifest's order."""
    return tuple(str(scope) for scope in manifest()["oauth_config"]["scopes"]["bot"])


def slash_commands() -> dict[str, bool]:
    """Each slash command the app declares, with its ``should_escape``."""
    return {
        str(c["command"]): bool(c.get("should_escape", False))
        for c in manifest()["features"]["slash_commands"]
    }


def escaped_commands() -> frozenset[str]:
    """The commands whose mentions Slack sends as ``<@U…|name>``."""
    return frozenset(name for name, escaped in slash_commands().items() if escaped)
