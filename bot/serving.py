"""Serving the WSGI app over HTTP with waitress (threads, keep-alive, no C build needed)."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from bot.slack.guard import MAX_BODY_BYTES

logger = logging.getLogger(__name__)


class Shutdown(SystemExit):
    """Raised in the main thread by SIGTERM to leave the serving loop.

    A SystemExit, not an Exception: waitress's loop catches every other exception a
    channel raises (and goes on serving), so a SIGTERM landing while it reads or writes a
    socket would otherwise be lost.
    """


def _raise_shutdown(signum: int, frame: object) -> None:
    raise Shutdown


class HttpServer:
    """A waitress server on ``host:port`` (0 picks a free port); runs in the foreground or a thread."""

    def __init__(
        self,
        wsgi_app: Any,
        host: str = "127.0.0.1",
        port: int = 3000,
        threads: int = 8,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._server: Any = create_server(
            wsgi_app,
            host=host,
            port=port,
            threads=threads,
            ident="readalong",
            clear_untrusted_proxy_headers=True,
            # Slack's requests are small: waitress answers 413 itself before buffering more
            # (the request guard has the same cap for what reaches the app).
            max_request_body_size=max_body_bytes,
        )
        self._thread: threading.Thread | None = None
        self._stopping = threading.Lock()

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def url(self) -> str:
        return f"http://{self._server.effective_host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve until SIGTERM or Ctrl-C; then stop accepting and let in-flight requests finish."""
        previous = signal.signal(signal.SIGTERM, _raise_shutdown)
        try:
            self._server.run()
        except (Shutdown, KeyboardInterrupt):
            logger.info("stopping: no new requests; finishing the ones in flight")
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.stop()

    def start(self) -> HttpServer:
        self._thread = threading.Thread(
            target=self._run_quietly, name="readalong-http", daemon=True
        )
        self._thread.start()
        return self

    def _run_quietly(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError):
            # run() exits with a socket error once stop() closed the listening socket.
            logger.debug("HTTP server loop ended")

    def stop(self) -> None:
        """Let requests in flight finish, then close the sockets (in that order: a finishing
        request wakes the loop through a socket that must still be open). Idempotent."""
        with self._stopping:
            dispatcher = getattr(self._server, "task_dispatcher", None)
            if dispatcher is not None:
                dispatcher.shutdown(cancel_pending=False, timeout=30)
            thread = self._thread
            if thread is not None and thread.is_alive():
                # Close everything from inside the serving loop, woken by its trigger: the
                # loop then finds nothing left to watch and ends now, not at its next 1 s
                # poll, and no socket is closed by two threads at once.
                try:
                    self._server.trigger.pull_trigger(self._close_all)
                except OSError:
                    # The loop lost its wake-up pipe: close from here; the loop finds its
                    # map empty when its poll returns, within a second.
                    logger.debug("HTTP server loop could not be woken; closing from here")
                    self._close_all()
                thread.join(timeout=5)
                if thread.is_alive():
                    logger.warning("HTTP server loop did not end within 5 s")
                    return  # closing now would race the loop closing the same sockets
            self._thread = None
            self._server.close()

    def _close_all(self) -> None:
        """Close every connection and the listening socket; take the wake-up pipe out of the
        loop but leave it open: stop() may be writing to it at this moment (the loop can be
        woken by an earlier byte first), so stop() closes it once the loop has ended."""
        server = self._server
        for channel in list(server._map.values()):
            if channel is server.trigger:
                channel.del_channel()
                continue
            # From outside the loop (stop()'s fallback), the loop may be closing it too.
            with contextlib.suppress(KeyError, OSError):
                if channel is server:
                    wasyncore.dispatcher.close(server)  # server.close() closes the pipe too
                else:
                    channel.close()
