"""Slack adapters: parse payloads, ack fast, call services, render Block Kit."""
