"""Members who join, and the conversations they make and switch between: a pair, several
groups and a cohort on one laptop, all through the real bolt app over HTTP."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import yaml
from rich.console import Console

from bot.console import world as console_world
from bot.console.inputs import ScriptInput
from bot.console.shell import Shell
from bot.console.world import CLUB_ID
from bot.emulator.client import AppResponse
from tests.console.conftest import Conversation, console_settings

ROOT = Path(__file__).resolve().parents[2]

START_IN_MENTORING = [
    (":private mentoring bob", "Created 🔒#mentoring with bob and readalong."),
    ("/book add Dune | Frank Herbert | 6", "Added to the shelf"),
    ("/book start 1 every monday at 09:00 2 chapters", "🔒#mentoring · readalong"),
]


class Sent:
    """What the console sent the app: slash-command forms and Events API callbacks."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    @property
    def commands(self) -> list[dict[str, str]]:
        return [
            {key: values[0] for key, values in r.items()} for r in self.requests if "command" in r
        ]

    @property
    def events(self) -> list[dict[str, Any]]:
        return [r["event"] for r in self.requests if "event" in r]


@pytest.fixture
def sent(talk: Conversation, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sent]:
    """Records every request the console's Slack sends the app (the app still gets them)."""
    record = Sent()
    client = talk.world.slack
    original = client.send_raw

    def spy(body: bytes, content_type: str, **kwargs: Any) -> AppResponse:
        if content_type == "application/json":
            record.requests.append(json.loads(body))
        elif b"payload=" not in body[:8]:
            record.requests.append(parse_qs(body.decode()))
        return original(body, content_type, **kwargs)

    monkeypatch.setattr(client, "send_raw", spy)
    yield record


# ---------------------------------------------------------------------- members


def test_any_name_joins_the_workspace_with_its_own_time_zone(talk: Conversation) -> None:
    talk.expect(
        [
            (
                ":as dave tz Asia/Tokyo",
                [
                    "dave joined the workspace (Dave, U0",
                    "time zone Asia/Tokyo (Japan Standard Time, UTC+09:00)",
                    "You are now dave. You are in dm.",
                    ":channel book-club joins #book-club",
                ],
            ),
            (
                ":who",
                [
                    "alice: Alice Host · Europe/Berlin (Central European Time, UTC+01:00) · admin",
                    "dave: Dave (you) · Asia/Tokyo (Japan Standard Time, UTC+09:00)",
                    "In dm: dave, readalong.",
                ],
            ),
            (":as alice", "You are now alice. You are in #book-club."),
            (":as dave", "You are now dave. You are in dm."),
        ]
    )
    assert talk.transcript.count("joined the workspace") == 1
    dave = talk.world.find_member("dave")
    assert dave is not None and dave.id.startswith("U0") and len(dave.id) == 11
    # The bot reads it as Slack serves it: users.info.
    info = talk.world.emulator.workspace.user_json(dave)
    assert (info["tz"], info["tz_label"], info["tz_offset"], info["real_name"]) == (
        "Asia/Tokyo",
        "Japan Standard Time",
        32400,
        "Dave",
    )


def test_the_bot_nudges_a_new_member_in_their_own_time(talk: Conversation) -> None:
    talk.expect(
        [
            (":as dave tz Asia/Tokyo", "dave joined the workspace"),
            (":channel book-club", ["You joined #book-club.", "You are in #book-club."]),
            ("/book add Dune | Frank Herbert | 6", "Added to the shelf"),
            ("/book start 1 every monday at 09:00 2 chapters", "@dave started a reading plan"),
            (
                ":advance 6d 1h",
                ["📬 [", "DM · readalong", "A gentle nudge", "Mon 14 Dec 2026, 17:00 JST"],
            ),
        ]
    )


def test_a_time_zone_can_change(talk: Conversation) -> None:
    talk.expect(
        [
            (
                ":as bob tz America/New_York",
                [
                    "bob's time zone is now America/New_York (Eastern Standard Time, UTC-05:00).",
                    "You are now bob.",
                ],
            ),
            (":as BOB tz utc", "bob's time zone is now UTC (Coordinated Universal Time"),
        ]
    )
    assert "joined the workspace" not in talk.transcript


def test_names_are_one_lower_case_word(talk: Conversation) -> None:
    talk.expect(
        [
            (":as Dave", ["dave joined the workspace (Dave,", "You are now dave."]),
            (":as DAVE", "You are now dave."),
            (":as @dave", "You are now dave."),
            (
                ":as dave smith",
                "⚠ A member's name is one word, without spaces (try :as dave.smith)",
            ),
            (":as Dave Smith tz Europe/Paris", "⚠ A member's name is one word"),
            (":as dave.smith", "dave.smith joined the workspace (Dave Smith,"),
            (":as dave!", "⚠ 'dave!' can't be a member's name"),
            (":as " + "x" * 22, "can't be a member's name"),
            (":as readalong", "⚠ 'readalong' is taken"),
            (":as here", "⚠ 'here' is taken"),
            (":as", "⚠ Say who: :as bob, or :as dave tz Asia/Tokyo"),
        ]
    )
    assert talk.transcript.count("joined the workspace") == 2
    assert [u.name for u in talk.world.members()] == [
        "alice",
        "bob",
        "carol",
        "dave",
        "dave.smith",
    ]


def test_a_bad_time_zone_changes_nothing(talk: Conversation) -> None:
    talk.expect(
        [
            (
                ":as erin tz Mars/Base",
                "⚠ 'Mars/Base' is not an IANA time zone such as Asia/Tokyo or America/New_York.",
            ),
            (":as erin tz London", "; did you mean Europe/London?"),
            (":as erin tz", "⚠ Give one time zone after tz"),
            (":as bob tz EST", "⚠ 'EST' is not an IANA time zone"),
        ]
    )
    assert talk.world.find_member("erin") is None  # nobody was half made
    assert talk.world.user(talk.world.user_id("bob")).tz == "Europe/Berlin"
    assert talk.shell.user_name == "alice"


def test_start_as_a_new_member(tmp_path: Path) -> None:
    """``readalong console --as zoe``: zoe joins, and starts in her DM with the bot."""
    stream = io.StringIO()
    with console_world.ConsoleWorld(console_settings(), tmp_path / "c.db") as world:
        shell = Shell(world, ScriptInput(), Console(file=stream, width=120), user="zoe")
        shell.start()
        assert shell.prompt() == "zoe @ dm> "
    shown = stream.getvalue()
    assert "You are zoe." in shown and "zoe joined the workspace" in shown
    assert "You are in dm." in shown


# ---------------------------------------------------------------------- conversations


def test_a_pair_reads_in_a_group_dm(talk: Conversation, sent: Sent) -> None:
    talk.expect(
        [
            (":group bob", ["Opened a group DM with bob and readalong.", "in group(alice,bob)."]),
            ("/book add Dune | Frank Herbert | 6", "[e1] group(alice,bob) · readalong"),
            ("/book start 1 every monday at 09:00 2 chapters", "[1] group(alice,bob) · readalong"),
            (":advance 1h", ["[2] group(alice,bob) · readalong", "prompt p1", "Dune: step 1"]),
            (":as bob", "You are now bob."),
            (":group alice", "You are in group(alice,bob)."),  # the same one, from bob
            (
                "/reflect The spice is the plot.",
                ["group(alice,bob) › thread p1 · readalong", "@bob reflected"],
            ),
        ]
    )
    assert talk.shell.prompt() == "bob @ group(alice,bob)> "
    group = talk.shell.channel
    assert talk.world.channel(group).is_mpim
    assert {(c["channel_id"], c["channel_name"]) for c in sent.commands} == {
        (group, "mpdm-alice--bob-1")
    }
    assert "Opened" not in talk.say(":group Bob")


def test_a_private_channel_is_made_with_its_members_and_the_bot(
    talk: Conversation, sent: Sent
) -> None:
    talk.expect(
        [
            (
                ":private Mentoring bob",
                [
                    "(Channel names are lower case: mentoring.) Created 🔒#mentoring with bob "
                    "and readalong.",
                    "You are in 🔒#mentoring.",
                ],
            ),
            ("/book list", "[e1] 🔒#mentoring · readalong"),
            (":private mentoring carol", ["Invited carol.", "You are in 🔒#mentoring."]),
            (":private mentoring carol", "You are in 🔒#mentoring."),
        ]
    )
    assert talk.shell.prompt() == "alice @ 🔒#mentoring> "
    channel = talk.world.channel(talk.shell.channel)
    bot = talk.world.bot_user_id
    alice, bob, carol = (talk.world.user_id(n) for n in ("alice", "bob", "carol"))
    assert channel.is_private and channel.members == [alice, bot, bob, carol]
    # The app is told of each join from its own on, as Slack does (channel_type G).
    assert [(e["user"], e.get("inviter"), e["channel_type"]) for e in sent.events] == [
        (bot, alice, "G"),
        (bob, alice, "G"),
        (carol, alice, "G"),
    ]
    assert [c["channel_name"] for c in sent.commands] == ["privategroup"]


def test_a_public_channel_is_created_or_joined(talk: Conversation, sent: Sent) -> None:
    talk.expect(
        [
            (":channel Readers", ["Created #readers; readalong is in it.", "You are in #readers."]),
            (":as carol", "You are now carol. You are in #book-club."),
            (":go #readers", "⚠ You are not in #readers: :channel readers joins it."),
            (":join readers", ["You joined #readers.", "You are in #readers."]),
            ("/book list", "[e1] #readers · readalong"),
            (":channel #book-club", "You are in #book-club."),
        ]
    )
    carol = talk.world.user_id("carol")
    assert [(e["user"], e["channel_type"]) for e in sent.events] == [
        (talk.world.bot_user_id, "C"),
        (carol, "C"),
    ]
    assert [c["channel_name"] for c in sent.commands] == ["readers"]


def test_channel_names_are_checked(talk: Conversation) -> None:
    talk.expect(
        [
            (":channel", "⚠ Use :channel <name>, one word without spaces"),
            (":channel book club", "(or :channel book-club)"),
            (":channel dr.who", "⚠ 'dr.who' can't be a channel's name"),
            (":channel bob", "⚠ That name is taken (by a channel or a member)"),
            (":channel " + "x" * 81, "at most 80 characters"),
            (":private", "⚠ Name the channel: :private mentoring bob"),
            (":private book-club bob", "⚠ #book-club is a public channel: :channel book-club"),
            (":private secret zed", "⚠ There is no member called 'zed' (:as zed creates them)"),
            (":private My Channel", "⚠ There is no member called 'Channel'. Members:"),
        ]
    )
    # Refused: nothing was created.
    assert [c.name for c in talk.world.channels() if not c.is_im] == ["book-club"]


def test_a_dm_between_two_people_has_no_bot_in_it(talk: Conversation, sent: Sent) -> None:
    talk.expect(
        [
            (
                ":dm bob",
                [
                    "You are in dm(bob). readalong is not in a DM between two people",
                    ":group bob, or :private <name> bob",
                ],
            ),
            ("See you at the book club?", "dm(bob) · alice"),
            ("/book status", ["dm(bob) · readalong", "(only visible to you)"]),
            (":as bob", "You are now bob."),
            (":where", "dm(alice) (readalong is not in it)  ← you are here"),
        ]
    )
    dm = talk.shell.channel
    # Slack sent the app the slash command (it works anywhere), and nothing of the message.
    assert sent.events == []
    assert [(c["channel_id"], c["channel_name"]) for c in sent.commands] == [(dm, "directmessage")]
    assert [m.text for m in talk.world.emulator.messages(dm)] == ["See you at the book club?"]


def test_dm_mistakes(talk: Conversation) -> None:
    talk.expect(
        [
            (":dm alice", "⚠ That is you. :dm alone opens your DM with readalong."),
            (":dm zed", "⚠ There is no member called 'zed'"),
            (":dm bob carol", "⚠ A DM is between two: :dm bob. For more people, :group bob carol."),
        ]
    )
    assert talk.shell.prompt() == "alice @ #book-club> "


def test_the_bots_dm_takes_messages_and_its_buttons_work(talk: Conversation, sent: Sent) -> None:
    """The Messages tab is writable (members send the bot their EPUB files there): typed
    words get a hint of what the DM is for, slash commands work, and so do buttons."""
    talk.expect(
        [
            ("/book add Dune | Frank Herbert | 6", "Added"),
            ("/book start 1 every monday at 09:00 2 chapters", "started a reading plan"),
            (":advance 6d 1h", ["📬 [", "DM · readalong", "A gentle nudge"]),
            (":dm", "You are in dm. Your DM with readalong (the app's Messages tab)"),
        ]
    )
    assert sent.events[-1]["type"] == "app_home_opened" and sent.events[-1]["tab"] == "messages"
    talk.expect(
        [
            ("Thanks!", ["DM · readalong", "Send me a book as an EPUB file"]),
            ("/reflect list", "You have no reflections yet"),
        ]
    )
    nudge = next(m for m in talk.world.emulator.messages(talk.shell.channel) if "nudge" in m.text)
    number = talk.shell.feed.number(nudge)
    shown = talk.say(f":click {number} Reflect\n\nFrom the DM.\n")
    assert "Saved your shared reflection #1" in shown
    hints = [m for m in talk.world.emulator.messages(talk.shell.channel) if "EPUB" in str(m.blocks)]
    assert len(hints) == 1  # one hint for one message


def test_the_console_keeps_the_dm_read_only_as_the_manifest_does() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    read_only = manifest["features"]["app_home"].get("messages_tab_read_only_enabled", False)
    assert console_world.MESSAGES_TAB_READ_ONLY is bool(read_only)


def test_group_dm_mistakes(talk: Conversation) -> None:
    for n in range(8):
        talk.say(f":as reader{n}")
    talk.say(":as alice")
    talk.expect(
        [
            (":group", "⚠ A group DM needs someone besides you: :group bob [carol …]"),
            (":group alice", "⚠ A group DM needs someone besides you"),
            (":group @Alice readalong", "⚠ A group DM needs someone besides you"),
            (":group bob zed", "⚠ There is no member called 'zed'"),
            (
                ":group " + " ".join(f"reader{n}" for n in range(8)),
                "⚠ A group DM holds at most 9 people, readalong included: name up to 7 others",
            ),
        ]
    )
    assert not any(c.is_mpim for c in talk.world.channels())
    assert "Opened a group DM with bob, carol and readalong." in talk.say(":group bob, carol")


# ---------------------------------------------------------------------- seeing and switching


def test_news_elsewhere_is_announced_in_one_line_and_read_there(talk: Conversation) -> None:
    talk.expect(
        [
            *START_IN_MENTORING,
            (":go #book-club", "You are in #book-club."),
            (
                ":advance 1h",
                "📬 new in 🔒#mentoring: [2] readalong: Dune: chapters 1–2 (step 1 of 3) · "
                "prompt p1  (:go #mentoring)",
            ),
            (
                ":where",
                [
                    "1. #book-club  ← you are here",
                    "2. 🔒#mentoring  📬 1 unread from readalong",
                    "3. dm (your DM with readalong)",
                ],
            ),
            (
                ":go 2",
                ["You are in 🔒#mentoring.", "[2] 🔒#mentoring · readalong", "To talk about"],
            ),
            (":where", "2. 🔒#mentoring  ← you are here"),
            (":go 2", "(nothing new here)"),
        ]
    )
    announced = talk.transcript.split(":advance 1h")[1].split(":where")[0]
    assert "To talk about" not in announced  # one line, not the whole prompt
    assert "unread" not in talk.transcript.split(":go 2")[1]


def test_members_see_only_their_own_conversations(talk: Conversation) -> None:
    talk.expect(START_IN_MENTORING)
    talk.say(":go #book-club\n:as carol")
    advanced = talk.say(":advance 1h")
    assert "It is now Mon 7 Dec 2026, 09:00 CET" in advanced
    assert "📬" not in advanced and "mentoring" not in advanced and "Dune" not in advanced
    talk.expect(
        [
            (":where", ["1. #book-club  ← you are here", "2. dm"]),
            (":go mentoring", "⚠ You are not in a conversation called mentoring (:where lists"),
            (":go #mentoring", "⚠ You are not in a conversation called #mentoring"),
            (":go 🔒#mentoring", "⚠ You are not in a conversation called"),
            (":private mentoring", "⚠ #mentoring is taken by a channel you are not in"),
            (":channel mentoring", "⚠ #mentoring is taken by a channel you are not in"),
            (":as bob", "📬 new in 🔒#mentoring: [2] readalong"),  # bob is in it
            (":as carol", "You are now carol."),
            (":react 2 :fire:", "⚠ Message 2 is in a conversation you are not in"),
            (":click p1 Reflect", "⚠ Message p1 is in a conversation you are not in"),
            (":thread p1", "⚠ Message p1 is in a conversation you are not in"),
        ]
    )
    assert "🔒#mentoring" not in talk.say(":where")
    assert talk.shell.prompt() == "carol @ #book-club> "
    assert talk.world.open_modal(talk.world.user_id("carol")) is None


def test_go_finds_conversations_by_name_number_or_person(talk: Conversation) -> None:
    talk.say(":private mentoring bob\n:group bob carol\n:dm carol\n:channel book-club")
    talk.expect(
        [
            (
                ":conversations",
                [
                    "1. #book-club  ← you are here",
                    "2. 🔒#mentoring",
                    "3. group(alice,bob,carol)",
                    "4. dm(carol) (readalong is not in it)",
                    "5. dm (your DM with readalong)",
                ],
            ),
            (":go group(alice,bob,carol)", "You are in group(alice,bob,carol)."),
            (":go mentoring", "You are in 🔒#mentoring."),
            (":go @carol", "You are in dm(carol)."),
            (":go dm", "You are in dm."),
            (":go @readalong", "You are in dm."),
            (":go 1", "You are in #book-club."),
            (":go", "⚠ Say where: :go #book-club, :go dm, :go @bob or :go 2"),
            (":go 9", "⚠ There is no conversation 9; :where lists yours."),
            (":go #nowhere", "⚠ You are not in a conversation called #nowhere"),
        ]
    )


def test_switching_members_keeps_each_ones_place(talk: Conversation) -> None:
    talk.expect(
        [
            (":private mentoring bob", "You are in 🔒#mentoring."),
            (":as carol", "You are now carol. You are in #book-club."),  # she can't see it
            (":as dave", "You are now dave. You are in dm."),
            (":as alice", "You are now alice. You are in 🔒#mentoring."),  # where she was
            (":as bob", "You are now bob."),  # bob is in it too: same screen
        ]
    )
    assert talk.shell.prompt() == "bob @ 🔒#mentoring> "


def test_threads_work_in_private_conversations(talk: Conversation) -> None:
    talk.expect(
        [
            *START_IN_MENTORING,
            (":advance 1h", "prompt p1"),
            (":thread p1", "In the thread of p1"),
            ("Who is the hero here?", "🔒#mentoring › thread p1 · alice"),
            (":as bob", "You are now bob."),
            ("Arrakis is.", "🔒#mentoring › thread p1 · bob"),
        ]
    )
    assert talk.shell.prompt() == "bob @ 🔒#mentoring › thread p1> "
    shown = talk.say("/book summary")
    assert "0 shared reflections and 2 replies from 2 people." in shown


# ---------------------------------------------------------------------- sessions


def test_members_and_conversations_are_there_next_session(tmp_path: Path) -> None:
    db = tmp_path / "cohort.db"
    with Conversation.start(db) as first:
        first.say(":as dave tz Asia/Tokyo\n:as alice")
        first.expect(START_IN_MENTORING)
        first.say(":private mentoring dave\n:group dave\n:dm bob\nsee you\n:advance 1h")
        first.say(":as bob tz America/New_York\n:as dave\n:channel book-club\n:as alice")
        places = {
            c.id: first.world.label(c.id, first.world.user_id("alice"))
            for c in first.world.conversations_of(first.world.user_id("alice"))
        }
    with Conversation.start(db) as second:
        alice = second.world.user_id("alice")
        assert {
            c.id: second.world.label(c.id, alice) for c in second.world.conversations_of(alice)
        } == places
        second.expect(
            [
                (
                    ":who",
                    [
                        "bob: Bob Reader · America/New_York (Eastern Standard Time, UTC-05:00)",
                        "dave: Dave · Asia/Tokyo (Japan Standard Time, UTC+09:00)",
                        "In #book-club: alice, bob, carol, readalong, dave.",
                    ],
                ),
                (":as dave", "You are now dave."),
                (":go mentoring", "You are in 🔒#mentoring."),
                (":thread p1", "In the thread of p1"),
                ("Still here.", "🔒#mentoring › thread p1 · dave"),
                (":as alice", "You are now alice."),
                (":go @bob", "You are in dm(bob)."),
            ]
        )
        assert "joined the workspace" not in second.transcript
        dm = second.shell.channel
        assert [m.text for m in second.world.emulator.messages(dm)] == ["see you"]
        # The bot's thread still works: the reply was stored as discussion.
        assert "1 reply" in second.say(":go mentoring\n/book summary")
    assert CLUB_ID in places


def test_a_state_file_of_the_first_version_still_loads(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with Conversation.start(db) as first:
        first.expect([("/book add Dune | Frank Herbert | 6", "Added")])
        first.say("Hello, club.")
    state = db.with_name(db.name + ".console.json")
    body = json.loads(state.read_text(encoding="utf-8"))
    old = {
        "version": 1,
        "now": body["now"],
        "messages": [{k: v for k, v in m.items() if k != "dm_user"} for m in body["messages"]],
    }
    state.write_text(json.dumps(old), encoding="utf-8")
    with Conversation.start(db) as second:
        assert [m.text for m in second.world.emulator.messages(CLUB_ID)] == ["Hello, club."]
        assert [u.name for u in second.world.members()] == ["alice", "bob", "carol"]
