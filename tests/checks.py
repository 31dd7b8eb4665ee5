"""Typed checks shared by the tests."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def present(value: T | None) -> T:
    """``value``, which the test expects to be there: a stored entity's id, a row it found.

    Fails the test (rather than raising ``AttributeError`` a line later) when it is ``None``,
    and tells mypy the same.
    """
    assert value is not None, "expected a value, got None"
    return value
