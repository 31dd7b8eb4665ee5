"""Loopback Slack emulator: a Web API server and a client that plays Slack to the app.

- :class:`SlackEmulator` (``server``): the Web API, in-memory workspace, call log, faults.
- :class:`SlackAppClient` (``client``): signed slash commands, events and interactions.
- ``validation``: Block Kit limits; ``faults``: fault injection; ``workspace``: state.
"""

from bot.emulator.client import AppResponse, SlackAppClient, sign
from bot.emulator.models import ApiCall, Channel, FakeClock, Message, UploadedFile, User
from bot.emulator.server import SlackEmulator
from bot.emulator.workspace import SlackError, Workspace

__all__ = [
    "ApiCall",
    "AppResponse",
    "Channel",
    "FakeClock",
    "Message",
    "SlackAppClient",
    "SlackEmulator",
    "SlackError",
    "UploadedFile",
    "User",
    "Workspace",
    "sign",
]
