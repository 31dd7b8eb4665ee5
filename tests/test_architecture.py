"""Issue 15's rules, held by the code itself rather than by review: the domain and the
services import neither Slack nor SQLAlchemy (they reach both through ports); a listener
calls the Web API only to answer its request (open or publish a view; reply to a form
submission in one helper); and a message a member reads is written once in the code, so
it cannot drift between two places."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
#: What a listener may ask of Slack's Web API itself: answering the request it handles.
ANSWERING = {"views_open", "views_push", "views_update", "views_publish"}
#: The one helper that replies to a form submission (no response_url): ephemeral, else DM.
REPLY_HELPER = (
    "slack/listeners/common.py",
    "ephemeral_in",
    {"chat_postEphemeral", "chat_postMessage"},
)


def modules(*under: str) -> list[Path]:
    return sorted(p for part in under for p in (BOT / part).rglob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", ["domain", "services"])
def test_the_domain_and_the_services_import_neither_slack_nor_sqlalchemy(layer: str) -> None:
    forbidden = (
        "slack_sdk",
        "slack_bolt",
        "sqlalchemy",
        "bot.slack",
        "bot.storage",
        "bot.emulator",
    )
    found = {
        f"{path.relative_to(BOT)}: {name}"
        for path in modules(layer)
        for name in imported(path)
        if name.split(".")[0] in forbidden or name.startswith(forbidden)
    }
    assert found == set()


def web_api_calls(path: Path) -> list[tuple[str, str]]:
    """(enclosing function, dotted, method) for every ``client.<method>(…)`` in ``path``."""
    calls: list[tuple[str, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = f"{function}.{child.name}" if function else child.name
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and isinstance(child.func.value, ast.Name)
                and child.func.value.id == "client"
            ):
                calls.append((function, child.func.attr))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return calls


def test_listeners_call_the_web_api_only_to_answer_their_request() -> None:
    listeners = modules("slack/listeners")
    assert listeners, "no listeners found"
    seen_reply_helper = False
    strays = []
    for path in listeners:
        where = str(path.relative_to(BOT))
        for function, method in web_api_calls(path):
            if method in ANSWERING:
                continue
            if (where, function.split(".")[0]) == REPLY_HELPER[:2] and method in REPLY_HELPER[2]:
                seen_reply_helper = True
                continue
            strays.append(f"{where}:{function} calls {method}")
    assert strays == []  # everything else goes through the Notifier port
    assert seen_reply_helper, "the reply helper moved: update REPLY_HELPER"


def test_every_message_a_member_reads_is_written_once() -> None:
    """Sentences (40+ characters with spaces) outside docstrings appear in one module."""
    where: defaultdict[str, set[str]] = defaultdict(set)
    for path in modules("."):
        if {"emulator", "migrations"} & set(path.relative_to(BOT).parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and (body := node.body)
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and len(node.value) >= 40
                and " " in node.value
            ):
                where[node.value].add(str(path.relative_to(BOT)))
    twice = {text: sorted(paths) for text, paths in where.items() if len(paths) > 1}
    assert twice == {}
