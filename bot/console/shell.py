"""The console's prompt: act as a member, see what the bot does.

Lines starting with ``/`` are slash commands, sent as Slack sends them; lines starting
with ``:`` are console commands (``:help`` lists them); anything else is a message in
the current channel or thread. After each line the shell shows what is new in the
workspace. When the input is not a terminal, each line is echoed after the prompt, so
the output reads as a transcript of the conversation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.text import Text

from bot.console import render
from bot.console.feed import Change, Feed, Item, Kind
from bot.console.forms import Field, fields, parse_answer
from bot.console.inputs import LineSource
from bot.console.when import long_time, parse_duration, parse_moment
from bot.console.world import CLUB_ID, ConsoleError, ConsoleWorld
from bot.emulator.models import Message

HELP = """\
As a member of the workspace, type:
  /book …, /reflect …      slash commands, exactly as in Slack (/book help, /reflect help)
  any other text           a message in the current channel, or in the current thread
Console commands:
  :as <name>               act as another member (alice, bob, carol)
  :thread [n|pN]           enter the thread of message [n], or of prompt N (default: the latest prompt)
  :back                    leave the thread
  :react <n|pN> :emoji:    react to a message
  :click <n|pN|eN> [label] click a button on a message, e.g. :click p1 Reflect, :click e2 Make it private
  :advance 3d | 2h | 30m   move the clock forward; whatever the scheduler would do meanwhile happens
  :at 2026-12-07 09:00     move the clock to a moment (in the console's time zone)
  :home                    open your App Home
  :now, :who               the virtual time; the members
  :help, :quit
In a form, answer each field in turn: an empty answer keeps the [default], :cancel closes it."""

COMMANDS = (
    "as",
    "thread",
    "back",
    "react",
    "click",
    "advance",
    "at",
    "home",
    "now",
    "who",
    "help",
    "quit",
    "exit",
    "cancel",
)
MAX_FORM_ROUNDS = 10
MAX_BAD_ANSWERS = 3


class Shell:
    """The read–act–show loop, acting as one member at a time."""

    def __init__(
        self, world: ConsoleWorld, source: LineSource, out: Console, *, user: str = "alice"
    ) -> None:
        self.world = world
        self.source = source
        self.out = out
        self.feed = Feed(world)
        self.user = world.user_id(user)
        self.channel = CLUB_ID
        self.thread: Message | None = None
        self.running = True
        self.failures = 0
        # After a script's form was closed, its remaining answer lines are not chat.
        self._skipping_answers = False
        self._commands: dict[str, Callable[[str], None]] = {
            "as": self._as,
            "thread": self._thread,
            "back": self._back,
            "react": self._react,
            "click": self._click,
            "advance": self._advance,
            "at": self._at,
            "home": self._home,
            "now": lambda _: self._say(f"⏰ {long_time(self.world.now())}"),
            "who": self._who,
            "help": lambda _: self._say(HELP),
            "quit": self._quit,
            "exit": self._quit,
            "cancel": lambda _: self._say("No form is open."),
        }

    # ------------------------------------------------------------------ output

    @property
    def user_name(self) -> str:
        return self.world.user(self.user).name

    def _print(self, line: Text | str = "") -> None:
        self.out.print(line, soft_wrap=True, markup=False, highlight=False, emoji=False)

    def _say(self, text: str, style: str = "") -> None:
        for line in text.split("\n"):
            self._print(Text("  " + line, style=style))

    def _warn(self, text: str) -> None:
        self.failures += 1
        self._say(f"⚠ {text}", style="yellow")

    def prompt(self) -> str:
        where = "#" + self.world.channel(self.channel).name
        if self.thread is not None:
            number = self.feed.prompt_number(self.thread)
            ref = f"p{number}" if number else f"[{self.feed.number(self.thread)}]"
            where += f" › thread {ref}"
        return f"{self.user_name} @ {where}> "

    def _read(self, prompt: str, *, command: bool = False) -> str | None:
        """The next line; echoed after ``prompt`` when it comes from a script.

        A script's ``# comment`` lines (where a command is expected) are narration: shown
        as they are, not acted on.
        """
        line = self.source.read(prompt)
        if line is not None and not self.source.interactive:
            if command and line.lstrip().startswith("#"):
                self._print(Text(line.strip(), style="italic dim"))
            else:
                self._print(Text(prompt, style="bold green") + Text(line, style="bold"))
        return line

    def banner(self) -> None:
        names = ", ".join(u.name for u in self.world.members())
        club = self.world.channel(CLUB_ID).name
        self._print(Text("Readalong console", style="bold"))
        self._say(
            f"A workspace with #{club} and {names}; the real bot answers over a loopback Slack.\n"
            f"You are {self.user_name}. It is {long_time(self.world.now())}"
            f"{' (resumed)' if self.world.resumed else ''}. Database: {self.world.db_path}\n"
            "Type /book help, /reflect help or :help."
        )
        self._print()

    # ------------------------------------------------------------------ the loop

    def start(self) -> None:
        """Show the banner; what exists already counts as seen, by every member (switching
        with :as later does not show an earlier session's DMs again)."""
        for member in self.world.members():
            self.feed.catch_up(member.id)
        self.banner()

    def step(self) -> bool:
        """Read and act on one line; False at the end of the input or after ``:quit``."""
        line = self._read(self.prompt(), command=True)
        if line is None:
            return False
        if self._skipping_answers and not self.source.interactive:
            stripped = line.strip()
            if not stripped.startswith(("/", ":", "#")):
                # Meant as an answer to the form that was just closed (an empty one keeps a
                # default): never post it as a message.
                if stripped:
                    self._say("(skipped: an answer for the closed form, not a message)")
                return self.running
            self._skipping_answers = False
        self.execute(line)
        return self.running

    def run(self) -> int:
        """Read and act until ``:quit`` or the end of input; returns the exit status."""
        self.start()
        while self.step():
            pass
        if self.source.interactive:
            self._print()
        return 0

    def execute(self, line: str) -> None:
        """Act on one line, then show what is new; errors are shown, not raised."""
        text = line.strip()
        if not text:
            return
        if text.startswith("#") and not self.source.interactive:
            return  # narration in a script; already shown
        try:
            self._dispatch(text)
        except ConsoleError as exc:
            self._warn(str(exc))
        self._print()

    def _dispatch(self, text: str) -> None:
        if text.startswith("/"):
            self.world.slash(self.user, self.channel, text)
            self._after_action()
            return
        word, _, rest = text[1:].partition(" ")
        if text.startswith(":") and word.lower() in COMMANDS:
            self._commands[word.lower()](rest.strip())
            return
        if text.startswith(":") and not re.match(r":[a-z0-9_+-]+:", text):
            raise ConsoleError(f"Unknown console command {text.split()[0]}. Type :help.")
        thread_ts = self.thread.ts if self.thread is not None else None
        self.world.post(self.user, self.channel, text, thread_ts)
        self._after_action()

    def _after_action(self) -> None:
        self.show_news()
        self._forms()

    def show_news(self) -> None:
        for item in self.feed.news(self.user):
            self.show(item)

    def show(self, item: Item, *, body: bool = True) -> None:
        """One message: a heading (number, where, who, when, tags), then what it shows."""
        message = item.message
        head = Text("  ")
        if item.number is not None:
            head.append(f"[{item.number}] ", style="bold cyan")
        elif item.ephemeral is not None:
            head.append(f"[e{item.ephemeral}] ", style="bold cyan")
        channel = self.world.channel(message.channel)
        if item.kind is Kind.DM or channel.is_im:
            head.append("DM", style="magenta")
        else:
            head.append(f"#{channel.name}")
        if item.kind is Kind.REPLY and item.parent is not None:
            head.append(f" › thread {self._ref(item.parent)}")
        author = self.world.user(message.user).name if message.user else "someone"
        head.append(f" · {author}", style="bold")
        head.append(f" · {render.moment(message.ts, self.world.zone)}", style="dim")
        if item.prompt is not None:
            head.append(f" · prompt p{item.prompt}", style="bold cyan")
        tags = {
            Kind.EPHEMERAL: "only visible to you",
            Kind.DM: "direct message to you",
        }
        if item.kind in tags:
            head.append(f"  ({tags[item.kind]})", style="magenta")
        if item.change is not Change.NEW:
            head.append(f"  ({item.change.value})", style="yellow")
        self._print(head)
        if item.change is Change.DELETED or not body:
            return
        names = self.world.names()
        for line in render.indented(
            render.message_body(message, names, self.world.file_text), "      "
        ):
            self._print(line)

    def _ref(self, number: int) -> str:
        """``p2`` for a prompt's number, else ``[n]``."""
        try:
            message = self.feed.resolve(str(number))
        except ConsoleError:
            return f"[{number}]"
        prompt = self.feed.prompt_number(message)
        return f"p{prompt}" if prompt else f"[{number}]"

    # ------------------------------------------------------------------ forms (modals)

    def _forms(self) -> None:
        """Ask each open modal's fields at the prompt, then submit it as Slack would."""
        shown: tuple[str, str] | None = None
        errors: dict[str, str] = {}
        values: dict[str, dict[str, Any]] = {}
        for _ in range(MAX_FORM_ROUNDS):
            view = self.world.open_modal(self.user)
            if view is None:
                return
            names = self.world.names()
            key = (str(view["id"]), str(view.get("hash")))
            if key != shown:
                shown, errors, values = key, {}, {}
                self._show_form(view)
            form = fields(view, names)
            ask = [f for f in form if f.block_id in errors] or form
            for item in ask:
                answered, value = self._ask(item, errors.get(item.block_id))
                if not answered:
                    self._close_form(view)
                    return
                values.setdefault(item.block_id, {})[item.action_id] = value
            answer = self.world.submit(self.user, str(view["id"]), values)
            self.show_news()
            if isinstance(answer, dict) and answer.get("response_action") == "errors":
                errors = {str(k): str(v) for k, v in (answer.get("errors") or {}).items()}
                for block_id, message in errors.items():
                    label = next((f.label for f in form if f.block_id == block_id), block_id)
                    self._warn(f"{label}: {message}")
                if not self.source.interactive:
                    # A script cannot answer again: close the form, go on with the next line.
                    self._close_form(view)
                    return
        view = self.world.open_modal(self.user)
        if view is not None:
            self._warn("The form kept coming back.")
            self._close_form(view)

    def _close_form(self, view: dict[str, Any]) -> None:
        self.world.cancel(self.user, view)
        self._say("Form closed without submitting.", style="dim")
        self._skipping_answers = True
        self.show_news()

    def _show_form(self, view: dict[str, Any]) -> None:
        names = self.world.names()
        title = " ".join(t.plain for t in render.text_object(view.get("title"), names))
        submit = view.get("submit")
        label = " ".join(t.plain for t in render.text_object(submit, names)) if submit else ""
        head = Text(f"  ┌ {title}", style="bold")
        head.append(
            f"  (a form: answer each field; empty keeps the [default], :cancel closes it"
            f"{'; then ' + label if label else ''})",
            style="dim",
        )
        self._print(head)
        info = [b for b in view.get("blocks") or [] if b.get("type") != "input"]
        for line in render.indented(render.blocks(info, names), "  │ "):
            self._print(line)

    def _ask(self, item: Field, error: str | None) -> tuple[bool, Any]:
        if item.options:
            for index, (_, label) in enumerate(item.options, start=1):
                self._print(Text(f"  │   {index}) {label}"))
        if item.hint:
            self._print(Text(f"  │ {item.hint}", style="dim"))
        default = item.default_label
        question = f"  │ {item.label}"
        if default:
            question += f" [{default}]"
        elif item.optional:
            question += " (optional)"
        question += ": "
        for _ in range(MAX_BAD_ANSWERS if self.source.interactive else 1):
            answer = self._read(question)
            if answer is None or answer.strip() == ":cancel":
                return False, None
            try:
                return True, parse_answer(item, answer)
            except ValueError as exc:
                self._warn(str(exc))
        return False, None

    # ------------------------------------------------------------------ console commands

    def _as(self, rest: str) -> None:
        if not rest:
            raise ConsoleError("Say who: :as bob")
        self.user = self.world.user_id(rest)
        if self.user not in self.world.channel(self.channel).members:
            self.thread = None
            self.channel = CLUB_ID
        self._say(f"You are now {self.user_name}.", style="dim")
        self.show_news()
        self._forms()

    def _thread(self, rest: str) -> None:
        message = self.feed.resolve(rest) if rest else self.feed.latest_prompt()
        if message is None:
            raise ConsoleError("No prompt has been posted yet. Try :advance to let time pass.")
        channel = self.world.channel(message.channel)
        if channel.is_im or message.ephemeral_to:
            raise ConsoleError("That message has no thread to join (it is not in a channel).")
        parent = message
        if message.is_reply and message.thread_ts:
            found = self.world.emulator.workspace.find_message(message.channel, message.thread_ts)
            parent = found.copy() if found is not None else message
        self.channel, self.thread = parent.channel, parent
        self.show_news()
        items = self.feed.thread(parent)
        self._say(
            f"In the thread of {self._ref(self.feed.number(parent))} ({len(items) - 1} replies so far):",
            style="dim",
        )
        for item in items:
            self.show(item, body=item.message.is_reply)

    def _back(self, rest: str) -> None:
        self.thread = None
        self._say(f"Back in #{self.world.channel(self.channel).name}.", style="dim")

    def _react(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) != 2:
            raise ConsoleError("Use :react <n> :emoji:, e.g. :react p1 :fire:")
        message = self.feed.resolve(parts[0])
        if message.ephemeral_to:
            raise ConsoleError("Slack does not allow reactions on messages only you can see.")
        name = parts[1].strip(":")
        self.world.react(self.user, message.channel, message.ts, name)
        self._say(
            f"You reacted {render.emoji(name)} to {self._ref(self.feed.number(message))}.",
            style="dim",
        )
        self.show_news()

    def _click(self, rest: str) -> None:
        ref, _, label = rest.partition(" ")
        if not ref:
            raise ConsoleError("Use :click <n> [button], e.g. :click p1 Reflect")
        message = self.feed.resolve(ref)
        buttons = _buttons(message)
        if not buttons:
            raise ConsoleError(f"Message {ref} has no buttons.")
        wanted = label.strip().strip("[]").lower()
        chosen = [b for b in buttons if not wanted or b[2].lower() == wanted]
        if not chosen:
            listed = ", ".join(f"[{b[2]}]" for b in buttons)
            raise ConsoleError(f"No [{label.strip()}] button there; it has {listed}.")
        block_id, action_id, _ = chosen[0]
        self.world.click(self.user, message, action_id, block_id)
        self._after_action()

    def _advance(self, rest: str) -> None:
        self._move(self.world.now() + parse_duration(rest))

    def _at(self, rest: str) -> None:
        if not rest:
            raise ConsoleError("Say when: :at 2026-12-07 09:00")
        self._move(parse_moment(rest, self.world.now()))

    def _move(self, target: datetime) -> None:
        self.world.advance_to(target)
        self._say(f"⏰ It is now {long_time(self.world.now())}.", style="bold")
        self.show_news()
        self._forms()

    def _home(self, rest: str) -> None:
        view = self.world.open_home(self.user)
        self.show_news()
        if view is None:
            raise ConsoleError("The bot did not publish an App Home.")
        self._print(Text(f"  🏠 App Home of {self.user_name}", style="bold"))
        names = self.world.names()
        for line in render.indented(render.blocks(view.get("blocks") or [], names), "  │ "):
            self._print(line)

    def _who(self, rest: str) -> None:
        for user in self.world.members():
            marker = " (you)" if user.id == self.user else ""
            self._say(f"{user.name}: {user.real_name}{marker}")

    def _quit(self, rest: str) -> None:
        self.running = False
        self._say("Bye.", style="dim")


def _buttons(message: Message) -> list[tuple[str | None, str, str]]:
    """(block_id, action_id, label) of every button on the message."""
    found = []
    for block in message.blocks:
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict) and element.get("type") == "button":
                label = str((element.get("text") or {}).get("text") or "")
                block_id = block.get("block_id")
                found.append(
                    (str(block_id) if block_id else None, str(element.get("action_id")), label)
                )
    return found
