"""Readalong: a Slack bot for reading groups and mentoring pairs."""

__version__ = "0.1.0"
