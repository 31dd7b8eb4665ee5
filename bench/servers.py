"""Reference apps for the benchmarks, each served in its own process like Readalong is.

``python -m bench.servers bare-default|bare-fast --port N --signing-secret S
--api-url URL --token T`` serves a bolt app whose only listener acks ``/book`` (and
``/reflect``), through bolt's WSGI handler and :class:`bot.serving.HttpServer`
(waitress) — the same stack ``readalong serve`` uses. ``bare-default`` is bolt's default
configuration; ``bare-fast`` sets ``process_before_response=True``, as Readalong does.

It prints ``<name> listening on http://HOST:PORT/slack/events`` once it accepts
connections (``--port 0`` picks a free port) and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.serving import HttpServer

APPS = {"bare-default": False, "bare-fast": True}  # name -> process_before_response


def bare_app(*, signing_secret: str, api_url: str, token: str, fast: bool) -> App:
    """A bolt app that acks ``/book`` and ``/reflect`` and does nothing else."""
    app = App(
        signing_secret=signing_secret,
        client=WebClient(token=token, base_url=api_url),
        token_verification_enabled=False,
        process_before_response=fast,
    )

    def handle(ack: Ack) -> None:
        ack()

    app.command("/book")(handle)
    app.command("/reflect")(handle)
    return app


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.servers", description=__doc__)
    parser.add_argument("app", choices=sorted(APPS), help="which reference app to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (default 8)")
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument("--api-url", required=True, help="Slack Web API base URL")
    parser.add_argument("--token", required=True, help="bot token (xoxb-…)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = bare_app(
        signing_secret=args.signing_secret,
        api_url=args.api_url,
        token=args.token,
        fast=APPS[args.app],
    )
    server = HttpServer(SlackRequestHandler(app), args.host, args.port, threads=args.threads)
    signal.signal(signal.SIGTERM, lambda signum, frame: server.stop())
    print(f"{args.app} listening on {server.url}/slack/events", flush=True)
    # The loop ends with a socket error once SIGTERM closed the listening socket.
    with contextlib.suppress(OSError, ValueError):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
