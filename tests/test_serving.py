"""The HTTP server in a thread (tests, the console, benchmarks) stops cleanly, always."""

from __future__ import annotations

import socket
import threading

import pytest

from bot.serving import HttpServer


def _app(environ: object, start_response: object) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
    return [b"ok"]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.0 200")
    except OSError:
        return False


@pytest.mark.parametrize("lost", ["nothing", "the loop's wake-up pipe"])
def test_stop_ends_the_loop_and_frees_the_port(lost: str) -> None:
    """CI once saw stop() fail with EBADF writing to waitress's wake-up pipe (the loop's
    trigger, already closed): stop() must still end the loop and close the sockets."""
    server = HttpServer(_app, "127.0.0.1", 0).start()
    port = server.port
    assert _answers(port)
    if lost != "nothing":
        server._server.trigger.close()  # the state CI found it in
    loops_before = {t for t in threading.enumerate() if t.name == "readalong-http"}
    assert loops_before
    server.stop()
    assert not any(t.is_alive() for t in loops_before)
    assert not _answers(port)
    server.stop()  # twice is harmless


def test_stop_when_the_loop_wakes_before_its_own_wake_up_call() -> None:
    """The race CI hit: stop() queues the closing, and before it writes its wake-up byte
    the loop is woken by an earlier one (a worker that just finished a response), runs the
    closing, and closed the pipe stop() was about to write to (EBADF, or worse a reused
    descriptor). The pipe stays open until the loop has ended."""
    server = HttpServer(_app, "127.0.0.1", 0).start()
    port = server.port
    assert _answers(port)
    trigger = server._server.trigger
    write = trigger._physical_pull
    closed = threading.Event()
    errors: list[OSError] = []

    def earlier_wake_up_first() -> None:
        with trigger.lock:
            queued = trigger.thunks.pop()

            def then_say_so() -> None:
                queued()
                closed.set()

            trigger.thunks.append(then_say_so)
        write()  # the earlier wake-up: the loop runs the queued closing now
        assert closed.wait(5)
        try:
            write()  # stop()'s own wake-up, after the loop acted
        except OSError as exc:
            errors.append(exc)
            raise

    trigger._physical_pull = earlier_wake_up_first
    loops = [t for t in threading.enumerate() if t.name == "readalong-http"]
    server.stop()
    assert errors == []  # the pipe was still open
    assert not any(t.is_alive() for t in loops)
    assert not _answers(port)
