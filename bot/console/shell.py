"""The console's prompt: act as a member, see what the bot does.

Lines starting with ``/`` are slash commands, sent as Slack sends them from the current
conversation; lines starting with ``:`` are console commands (``:help`` lists them);
anything else is a message in the current conversation or thread. After each line the
shell shows what is new: in full where the member is (and the bot's DMs to them), in one
line elsewhere. When the input is not a terminal, each line is echoed after the prompt,
so the output reads as a transcript of the conversation.
"""

from __future__ import annotations

import logging
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
from bot.console.world import CLUB_ID, CONVERSATION_HINT, ConsoleError, ConsoleWorld
from bot.emulator.models import Channel, Message

logger = logging.getLogger(__name__)

HELP = """\
As a member of the workspace, type:
  /book …, /reflect …      slash commands, exactly as in Slack (/book help, /reflect help),
                           sent from the conversation you are in
  any other text           a message in the current conversation, or in the current thread
Console commands:
  :as <name> [tz <zone>]   act as a member; a new name joins the workspace (:as dave);
                           tz sets their Slack time zone (:as dave tz Asia/Tokyo)
  :who                     the members, their time zones, who is in this conversation
  :where, :conversations   the conversations you are in, numbered, with unread bot messages
  :go <#name|@name|dm|n>   switch to one of your conversations (n: its number in :where)
  :channel <name>          switch to, join or create a public channel, the bot in it (or :join)
  :private <name> [<member> …]  create or switch to a private channel with them and the bot
  :group <member> [<member> …]  a group DM of you, them and the bot (for a pair: :group bob)
  :dm [<member>]           your DM with the bot (the app's Messages tab),
                           or a DM with a member (the bot is never in it)
  :thread [n|pN]           enter the thread of message [n], or of prompt N (default: the latest prompt)
  :back                    leave the thread
  :react <n|pN> :emoji:    react to a message
  :click <n|pN|eN> [label] click a button on a message, e.g. :click p1 Reflect, :click e2 Make it private
  :click <label>           click the newest button with that label you can see, e.g. :click Accept
  :advance 3d | 2h | 30m   move the clock forward; whatever the scheduler would do meanwhile happens
  :at 2026-12-07 09:00     move the clock to a moment (in the console's time zone)
  :home                    open your App Home
  :now                     the virtual time
  :help, :quit
📬 marks what the bot sent to your DM or to another of your conversations.
In a form, answer each field in turn: an empty answer keeps the [default], :cancel closes it."""

COMMANDS = (
    "as",
    "dm",
    "group",
    "private",
    "channel",
    "join",
    "go",
    "where",
    "conversations",
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
BRIEF_LENGTH = 72


class Shell:
    """The read–act–show loop, acting as one member at a time."""

    def __init__(
        self, world: ConsoleWorld, source: LineSource, out: Console, *, user: str = "alice"
    ) -> None:
        self.world = world
        self.source = source
        self.out = out
        self.feed = Feed(world)
        self.user, self._new_at_start = world.ensure_member(user)
        self.thread: Message | None = None
        # Where each member was, to go back there after an :as.
        self._places: dict[str, str] = {}
        self.channel = self._home_for(self.user)
        self.running = True
        self.failures = 0
        # After a script's form was closed, its remaining answer lines are not chat.
        self._skipping_answers = False
        self._home_open = False  # :click reaches App Home buttons right after :home
        self._after_form: str | None = None  # a console command typed into a form
        self._commands: dict[str, Callable[[str], None]] = {
            "as": self._as,
            "dm": self._dm,
            "group": self._group,
            "private": self._private,
            "channel": self._channel,
            "join": self._channel,
            "go": self._go,
            "where": self._where,
            "conversations": self._where,
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

    def here(self) -> str:
        """The current conversation as the member reads it: #book-club, dm, group(…)…"""
        return self.world.label(self.channel, self.user)

    def prompt(self) -> str:
        where = self.here()
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
        public = [c for c in self.world.channels() if not (c.is_private or c.is_im or c.is_mpim)]
        channels = ", ".join("#" + c.name for c in public)
        self._print(Text("Readalong console", style="bold"))
        self._say(
            f"A workspace with {channels} and {names}; the real bot answers over a loopback "
            f"Slack.\nYou are {self.user_name}. It is {long_time(self.world.now())}"
            f"{' (resumed)' if self.world.resumed else ''}. Database: {self.world.db_path}\n"
            "Type /book help, /reflect help or :help."
        )
        if self._new_at_start:
            self._joined(self.user)
            self._say(f"You are in {self.here()}.", style="dim")
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
        except Exception:  # a console bug must not end the member's session
            logger.exception("console command failed: %s", text.split()[0])
            self._warn("That went wrong inside the console (logged); the bot is fine.")
        self._print()

    def _dispatch(self, text: str) -> None:
        if not text.startswith((":home", ":click")):
            self._home_open = False  # App Home's buttons are clickable right after :home
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

    def show_news(self) -> int:
        """Show what is new for the member here; returns how many messages were shown."""
        items = self.feed.news(self.user, self.channel)
        for item in items:
            if item.brief:
                self.show_brief(item)
            else:
                self.show(item)
        return len(items)

    def show_brief(self, item: Item) -> None:
        """📬 one line for a message in another of the member's conversations."""
        message = item.message
        where = self.world.label(message.channel, self.user)
        if item.kind is Kind.REPLY and item.parent is not None:
            where += f" › thread {self._ref(item.parent)}"
        author = self.world.user(message.user).name if message.user else "someone"
        line = Text("  📬 ")
        line.append("new" if item.change is Change.NEW else item.change.value)
        line.append(f" in {where}: ", style="bold")
        if item.number is not None:
            line.append(f"[{item.number}] ", style="bold cyan")
        line.append(f"{author}: ")
        line.append(_summary(message, self.world.names()))
        if item.prompt is not None:
            line.append(f" · prompt p{item.prompt}", style="bold cyan")
        line.append(f"  (:go {self.go_ref(message.channel)})", style="dim")
        self._print(line)

    def show(self, item: Item, *, body: bool = True) -> None:
        """One message: a heading (number, where, who, when, tags), then what it shows."""
        message = item.message
        head = Text("  ")
        dm = self.world.is_bot_dm(message.channel)
        if dm and message.channel != self.channel and item.kind is Kind.DM:
            head.append("📬 ")  # the bot wrote to you while you were elsewhere
        if item.number is not None:
            head.append(f"[{item.number}] ", style="bold cyan")
        elif item.ephemeral is not None:
            head.append(f"[e{item.ephemeral}] ", style="bold cyan")
        if dm:
            head.append("DM", style="magenta")
        else:
            head.append(self.world.label(message.channel, self.user))
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
                    pending, self._after_form = self._after_form, None
                    if pending:
                        self.execute(pending)
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
        if item.multiline:
            question += " (\\n for a new line)"
        if default:
            question += f" [{default}]"
        elif item.optional:
            question += " (optional)"
        question += ": "
        for _ in range(MAX_BAD_ANSWERS if self.source.interactive else 1):
            answer = self._read(question)
            if answer is None or answer.strip() == ":cancel":
                return False, None
            word = answer.strip()[1:].split(" ", 1)[0].lower()
            if answer.strip().startswith(":") and word in COMMANDS:
                # A console command, not an answer: the form closes, and the command runs.
                self._say("(The form is closed unsent: you typed a console command.)", "dim")
                self._after_form = answer.strip()
                return False, None
            try:
                return True, parse_answer(item, answer)
            except ValueError as exc:
                self._warn(str(exc))
        return False, None

    # ------------------------------------------------------------------ console commands

    def _as(self, rest: str) -> None:
        name, timezone = _as_arguments(rest)
        zone = self.world.check_timezone(timezone) if timezone else None  # before any change
        user_id, created = self.world.ensure_member(name, timezone=zone)
        if created:
            self._joined(user_id)
        elif zone is not None:
            self.world.set_timezone(user_id, zone)
            self._say(
                f"{self.world.user(user_id).name}'s time zone is now "
                f"{self.world.timezone_of(user_id)}.",
                style="dim",
            )
        self._places[self.user] = self.channel
        before = self.channel
        self.user = user_id
        if not self.world.is_member(user_id, self.channel):
            self._switch(self._home_for(user_id))
        moved = f" You are in {self.here()}." if self.channel != before else ""
        self._say(f"You are now {self.user_name}.{moved}", style="dim")
        if created and all(c.is_im for c in self.world.conversations_of(user_id)):
            club = self.world.channel(CLUB_ID).name
            self._say(
                f":channel {club} joins #{club}; :group or :private make a place for a pair.",
                style="dim",
            )
        self.show_news()
        self._forms()

    def _joined(self, user_id: str) -> None:
        user = self.world.user(user_id)
        self._say(
            f"{user.name} joined the workspace ({user.real_name}, {user.id}, time zone "
            f"{self.world.timezone_of(user_id)}).",
            style="bold",
        )

    def _home_for(self, user_id: str) -> str:
        """Where a member lands: where they last were, else #book-club, else their DM."""
        for place in (self._places.get(user_id), CLUB_ID):
            if place is not None and self.world.is_member(user_id, place):
                return place
        return self.world.emulator.workspace.dm_channel(user_id)

    def _switch(self, channel_id: str) -> None:
        if channel_id != self.channel:
            self.thread = None
        self.channel = channel_id

    def _go_to(self, channel_id: str, done: str = "", about: str = "") -> None:
        """Switch to the conversation and show what is unread there: ``done`` says what
        was just made or joined, ``about`` what the conversation is."""
        self._switch(channel_id)
        self.thread = None
        for line in (done, f"You are in {self.here()}. {about}".strip()):
            if line:
                self._say(line, style="dim")
        if not self.show_news() and not done:
            self._say("(nothing new here)", style="dim")
        self._forms()

    def go_ref(self, channel_id: str) -> str:
        """What to type after :go to get to the conversation."""
        channel = self.world.channel(channel_id)
        if channel.is_im:
            return self.world.label(channel_id, self.user).replace("dm(", "@").rstrip(")")
        if channel.is_mpim:
            return self.world.label(channel_id, self.user)
        return "#" + channel.name

    def _check_can_see(self, message: Message, ref: str) -> None:
        """Members see the messages of their own conversations only (and their own answers)."""
        if message.ephemeral_to is not None and message.ephemeral_to != self.user:
            raise ConsoleError(f"Message {ref} is not yours to see.")
        if not self.world.is_member(self.user, message.channel):
            raise ConsoleError(
                f"Message {ref} is in a conversation you are not in ({CONVERSATION_HINT})."
            )

    def _members(self, words: list[str]) -> list[str]:
        """Member ids for names (``bob``, ``@bob``, ``Bob``; commas are fine), checked first."""
        ids = []
        for word in words:
            for name in word.split(","):
                if not name.strip() or self.world.is_bot_name(name):
                    continue
                ids.append(self.world.user_id(name))
        return list(dict.fromkeys(ids))

    def _dm(self, rest: str) -> None:
        words = rest.split()
        if len(words) > 1:
            raise ConsoleError("A DM is between two: :dm bob. For more people, :group bob carol.")
        if not words or self.world.is_bot_name(words[0]):
            channel_id = self.world.open_bot_dm(self.user)
            self._go_to(
                channel_id,
                about="Your DM with readalong (the app's Messages tab): its nudges, files and "
                "replies to you arrive here, and its buttons work.",
            )
            return
        other = self.world.user_id(words[0])
        if other == self.user:
            raise ConsoleError("That is you. :dm alone opens your DM with readalong.")
        name = self.world.user(other).name
        self._go_to(
            self.world.open_person_dm(self.user, other),
            about=f"readalong is not in a DM between two people and cannot be added: it hears "
            f"nothing here, can't post here, and answers slash commands only to you. For a "
            f"pair with the bot: :group {name}, or :private <name> {name}.",
        )

    def _group(self, rest: str) -> None:
        others = [o for o in self._members(rest.split()) if o != self.user]
        channel_id, created = self.world.open_group(self.user, others)
        names = ", ".join(self.world.user(o).name for o in others)
        done = f"Opened a group DM with {names} and readalong." if created else ""
        self._go_to(channel_id, done)

    def _private(self, rest: str) -> None:
        words = rest.split()
        if not words:
            raise ConsoleError("Name the channel: :private mentoring bob")
        name, note = _channel_name(words[0])
        others = self._members(words[1:])
        channel_id, created, invited = self.world.open_private(self.user, name, others)
        people = ", ".join(self.world.user(i).name for i in invited)
        if created:
            note += f" Created {self.world.label(channel_id, self.user)}"
            note += f" with {people} and readalong." if people else " with readalong."
        elif people:
            note += f" Invited {people}."
        self._go_to(channel_id, note.strip())

    def _channel(self, rest: str) -> None:
        words = rest.split()
        if len(words) != 1:
            raise ConsoleError(
                "Use :channel <name>, one word without spaces, e.g. :channel book-club"
                + (f" (or :channel {'-'.join(words).lower()})" if len(words) > 1 else "")
            )
        name, note = _channel_name(words[0])
        channel_id, what = self.world.open_channel(self.user, name)
        if what == "created":
            note += f" Created #{name}; readalong is in it."
        elif what == "joined":
            note += f" You joined #{name}."
        self._go_to(channel_id, note.strip())

    def _conversations(self) -> list[Channel]:
        return self.world.conversations_of(self.user)

    def _go(self, rest: str) -> None:
        ref = rest.strip()
        if not ref:
            raise ConsoleError("Say where: :go #book-club, :go dm, :go @bob or :go 2 (see :where)")
        mine = self._conversations()
        if ref.isdigit():
            if not 1 <= int(ref) <= len(mine):
                raise ConsoleError(f"There is no conversation {ref}; {CONVERSATION_HINT}.")
            chosen = mine[int(ref) - 1]
            if chosen.im_user is not None:
                self._dm("")  # the app's Messages tab, opened as :dm opens it
            else:
                self._go_to(chosen.id)
            return
        if ref.startswith("@"):
            self._dm(ref)
            return
        wanted = ref.lower().removeprefix("🔒")
        for channel in mine:
            label = self.world.label(channel.id, self.user).lower()
            names = {label, label.removeprefix("🔒"), channel.name.lower()}
            if not channel.is_im:
                names.add(label.removeprefix("🔒").removeprefix("#"))
            if wanted in names:
                if channel.im_user is not None:
                    self._dm("")
                else:
                    self._go_to(channel.id)
                return
        found = self.world.find_channel(wanted.lstrip("#"))
        if found is not None and not found.is_private:
            raise ConsoleError(f"You are not in #{found.name}: :channel {found.name} joins it.")
        raise ConsoleError(f"You are not in a conversation called {ref} ({CONVERSATION_HINT}).")

    def _where(self, rest: str) -> None:
        self._say(f"Conversations {self.user_name} is in:")
        for number, channel in enumerate(self._conversations(), start=1):
            line = f"  {number}. {self.world.label(channel.id, self.user)}"
            if channel.im_user is not None:
                line += " (your DM with readalong)"
            elif channel.is_im:
                line += " (readalong is not in it)"
            unread = self.feed.unread(self.user, channel.id)
            if unread:
                line += f"  📬 {unread} unread from readalong"
            if channel.id == self.channel:
                line += "  ← you are here"
            self._say(line)
        self._say(":go <number or name> switches.", style="dim")

    def _thread(self, rest: str) -> None:
        message = self.feed.resolve(rest) if rest else self.feed.latest_prompt()
        if message is None:
            raise ConsoleError("No prompt has been posted yet. Try :advance to let time pass.")
        self._check_can_see(message, rest or "p" + str(self.feed.prompt_number(message)))
        channel = self.world.channel(message.channel)
        if channel.is_im or message.ephemeral_to:
            raise ConsoleError("That message has no thread to join (it is not in a channel).")
        parent = message
        if message.is_reply and message.thread_ts:
            found = self.world.emulator.workspace.find_message(message.channel, message.thread_ts)
            parent = found.copy() if found is not None else message
        self._switch(parent.channel)
        self.thread = parent
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
        self._say(f"Back in {self.here()}.", style="dim")

    def _react(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) != 2:
            raise ConsoleError("Use :react <n> :emoji:, e.g. :react p1 :fire:")
        message = self.feed.resolve(parts[0])
        self._check_can_see(message, parts[0])
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
            raise ConsoleError("Use :click <n> [button], e.g. :click p1 Reflect, or :click Accept")
        if not _REF.fullmatch(ref.strip("[]").lower()):
            if self._click_in_home(rest):
                return
            message = self._newest_with(rest)  # ":click Accept": the newest such button
            ref, label = "that", rest
        else:
            message = self.feed.resolve(ref)
        self._check_can_see(message, ref)
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

    def _click_in_home(self, label: str) -> bool:
        """``:click Show anyway`` right after ``:home``: the first such button there."""
        if not self._home_open:
            return False
        view = self.world.emulator.home_view(self.user) or {}
        wanted = label.strip().strip("[]").lower()
        for block in view.get("blocks") or []:
            for element in block.get("elements") or []:
                if not isinstance(element, dict) or element.get("type") != "button":
                    continue
                if str((element.get("text") or {}).get("text", "")).lower() == wanted:
                    self.world.click_home(
                        self.user,
                        element["action_id"],
                        block.get("block_id"),
                        element.get("value", ""),
                    )
                    self._home("")  # show it again, as the member sees it now
                    return True
        return False

    def _newest_with(self, label: str) -> Message:
        """The newest message this member can see with a button labelled ``label``."""
        wanted = label.strip().strip("[]").lower()
        for message in self.feed.shown_newest_first():
            if message.ephemeral_to not in (None, self.user):
                continue
            if not self.world.is_member(self.user, message.channel):
                continue
            if any(b[2].lower() == wanted for b in _buttons(message)):
                return message
        raise ConsoleError(f"No message you can see has a [{label.strip()}] button.")

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
        self._home_open = True
        view = self.world.open_home(self.user)
        self.show_news()
        if view is None:
            raise ConsoleError("The bot did not publish an App Home.")
        self._print(Text(f"  🏠 App Home of {self.user_name}", style="bold"))
        names = self.world.names()
        for line in render.indented(render.blocks(view.get("blocks") or [], names), "  │ "):
            self._print(line)

    def _who(self, rest: str) -> None:
        here = self.world.channel(self.channel)
        for user in self.world.members():
            marker = " (you)" if user.id == self.user else ""
            admin = " · admin" if user.is_admin else ""
            self._say(
                f"{user.name}: {user.real_name}{marker} · {self.world.timezone_of(user.id)}{admin}"
            )
        people = [self.world.user(m).name for m in here.members]
        self._say(f"In {self.here()}: {', '.join(people)}.", style="dim")

    def _quit(self, rest: str) -> None:
        self.running = False
        self._say("Bye.", style="dim")


_REF = re.compile(r"\d+|p\d+|e\d+")


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


def _as_arguments(rest: str) -> tuple[str, str | None]:
    """``dave`` or ``dave tz Asia/Tokyo`` → (name, zone)."""
    words = rest.split()
    if not words:
        raise ConsoleError("Say who: :as bob, or :as dave tz Asia/Tokyo")
    if len(words) == 1:
        return words[0], None
    if words[1].lower() == "tz":
        if len(words) == 3:
            return words[0], words[2]
        raise ConsoleError("Give one time zone after tz, e.g. :as dave tz Asia/Tokyo")
    joined = ".".join(w.lower() for w in words)
    raise ConsoleError(
        f"A member's name is one word, without spaces (try :as {joined}); "
        ":as <name> tz <Area/City> sets a time zone."
    )


def _channel_name(typed: str) -> tuple[str, str]:
    """A channel's name as Slack's composer makes it (lower case, no ``#``), and a note
    when it changed what was typed."""
    name = typed.strip().lstrip("#")
    lowered = name.lower()
    note = f"(Channel names are lower case: {lowered}.)" if lowered != name else ""
    return lowered, note


def _summary(message: Message, names: dict[str, str]) -> str:
    """The first line of a message, as a person reads it, cut to one line."""
    text = message.text
    if not text and message.files:
        text = "📎 " + str(message.files[0].get("name") or "a file")
    first = render.decode(text, names).strip().split("\n")[0].replace("*", "")
    first = render.emoji_text(first)
    return first if len(first) <= BRIEF_LENGTH else first[: BRIEF_LENGTH - 1] + "…"
