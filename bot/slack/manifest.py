"""What the Slack app declares in ``manifest.yaml`` that code needs to know.

``should_escape: true`` makes Slack send a mention in a slash command's text as
``<@U…|name>`` (else as the plain ``@name`` a member typed). The emulator plays Slack
with these declarations; a test holds them to ``manifest.yaml``.
"""

from __future__ import annotations

#: Slash command → its ``should_escape``.
SLASH_COMMANDS: dict[str, bool] = {"/book": False, "/reflect": False, "/mentor": True}

ESCAPED_COMMANDS = frozenset(name for name, escaped in SLASH_COMMANDS.items() if escaped)
