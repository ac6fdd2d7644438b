"""Realistic data for the fake backend: the chats a person would have after a few weeks."""

from __future__ import annotations

from dataclasses import dataclass

from tests.gui.fake_backend import FakeBackend
from tests.gui.fake_chats import FakeChat

PASSPHRASE = "correct horse battery"
HOUR = 3600
DAY = 24 * HOUR
CONTACTS = ("Bob Marsh", "Carol Diaz", "Dan Okafor", "Erin Walsh", "Frank Li", "Grace Kim")


@dataclass
class Demo:
    hikers: FakeChat
    erin: FakeChat
    frank: FakeChat
    book_club: FakeChat
    old_project: FakeChat


def seed_demo(backend: FakeBackend, now: float) -> Demo:
    """Alice's account: a busy group, DMs, a muted group, a pinned DM and an archived group."""
    b = backend
    for name in CONTACTS:
        b.add_fake_contact(name)
    t = int(now)
    hikers = b.make_chat("Weekend hikers", ["Bob Marsh", "Carol Diaz", "Dan Okafor"])
    hikers.description = "Trails, weather, and who brings the stove"
    _hikers_messages(b, hikers, t)
    erin = b.make_chat("Erin Walsh", ["Erin Walsh"], is_dm=True)
    b.receive(
        erin.id, "Erin Walsh", "Did you get the photos from last week?", at=t - 3 * DAY, silent=True
    )
    b.seed_own(erin.id, "Yes! The one at the lake is my new wallpaper.", t - 3 * DAY + 300)
    b.receive(
        erin.id, "Erin Walsh", "Haha, told you the light was perfect", at=t - 2 * HOUR, silent=True
    )
    erin.unread = 1
    frank = b.make_chat("Frank Li", ["Frank Li"], is_dm=True)
    frank.pinned = True
    b.seed_own(frank.id, "Landing at 18:40, see you at arrivals", t - 26 * HOUR)
    b.receive(frank.id, "Frank Li", "I'll be there. Safe flight!", at=t - 25 * HOUR, silent=True)
    frank.unread = 0
    book_club = b.make_chat("Book club", ["Grace Kim", "Carol Diaz", "Erin Walsh"], admin=False)
    book_club.muted = True
    for i, (who, text) in enumerate(
        [
            ("Grace Kim", "Next book: The Left Hand of Darkness?"),
            ("Carol Diaz", "Yes please, I've wanted to read it for ages"),
            ("Erin Walsh", "Fine by me. Same café on the 14th?"),
        ]
    ):
        b.receive(book_club.id, who, text, at=t - 6 * DAY + i * 900, silent=True)
    book_club.unread = 3
    old = b.make_chat("Moving day crew", ["Bob Marsh", "Dan Okafor"])
    old.archived = True
    b.receive(
        old.id, "Dan Okafor", "Thanks everyone, the couch survived!", at=t - 40 * DAY, silent=True
    )
    old.unread = 0
    return Demo(hikers, erin, frank, book_club, old)


def _direct_chats(b: FakeBackend, t: int) -> tuple[FakeChat, FakeChat]:
    erin = b.make_chat("Erin Walsh", ["Erin Walsh"], is_dm=True)
    b.receive(
        erin.id, "Erin Walsh", "Did you get the photos from last week?", at=t - 3 * DAY, silent=True
    )
    b.seed_own(erin.id, "Yes! The one at the lake is my new wallpaper.", t - 3 * DAY + 300)
    b.receive(
        erin.id, "Erin Walsh", "Haha, told you the light was perfect", at=t - 2 * HOUR, silent=True
    )
    erin.unread = 1
    frank = b.make_chat("Frank Li", ["Frank Li"], is_dm=True)
    frank.pinned = True
    b.seed_own(frank.id, "Landing at 18:40, see you at arrivals", t - 26 * HOUR)
    b.receive(frank.id, "Frank Li", "I'll be there. Safe flight!", at=t - 25 * HOUR, silent=True)
    frank.unread = 0
    return erin, frank


def _hikers_messages(b: FakeBackend, chat: FakeChat, t: int) -> None:
    y = t - DAY - 5 * HOUR
    b.receive(
        chat.id, "Carol Diaz", "Anyone up for the ridge trail on Saturday?", at=y, silent=True
    )
    b.receive(chat.id, "Bob Marsh", "I'm in! What time?", at=y + 120, silent=True)
    b.receive(chat.id, "Bob Marsh", "I can drive, there's room for three", at=y + 150, silent=True)
    mine = b.seed_own(chat.id, "Same. 8:00 at the trailhead parking?", y + 600)
    b.receive(chat.id, "Dan Okafor", "Count me in", at=y + 900, silent=True)
    b.peer_react(chat.id, mine.id, "Bob Marsh", "👍", silent=True)
    b.peer_react(chat.id, mine.id, "Carol Diaz", "👍", silent=True)
    forecast = b.receive(
        chat.id,
        "Carol Diaz",
        "Forecast says sunny until about 15:00, then showers. We should be down by then.",
        at=t - 3 * HOUR,
        silent=True,
    )
    back = "Perfect, then let's aim to be back at the cars by 14:00."
    b.seed_own(chat.id, back, t - 2 * HOUR - 1800, reply_to=forecast.id)
    b.receive(chat.id, "Dan Okafor", "Who brings the stove?", at=t - 2 * HOUR, silent=True)
    stove = b.seed_own(chat.id, "I'll bring mine, and coffee for everyone", t - 2 * HOUR + 60)
    b.peer_react(chat.id, stove.id, "Dan Okafor", "❤️", silent=True)
    b.peer_react(chat.id, stove.id, "Carol Diaz", "❤️", silent=True)
    b.peer_react(chat.id, stove.id, "Bob Marsh", "😂", silent=True)
    deleted = b.seed_own(chat.id, "oops, wrong chat", t - 2 * HOUR + 90)
    b.seed_deleted(chat.id, deleted.id)
    b.receive(
        chat.id,
        "Bob Marsh",
        "Legend. I'll bring snacks. Here's the map: https://maps.example.org/trails/ridge-loop-"
        "north-7b2f",
        at=t - 40 * 60,
        silent=True,
    )
    chat.unread = 2
