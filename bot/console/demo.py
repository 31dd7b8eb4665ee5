"""The scripted tour ``readalong demo`` plays through the console.

It is an ordinary console script: the same lines piped into ``readalong console`` on a
fresh database reproduce the demo. Lines starting with ``#`` are narration.
"""

from __future__ import annotations

DEMO_SCRIPT = """\
# Readalong demo: a reading group in #book-club, played by alice (the host), bob and carol;
# then a mentoring pair, maya (the mentee) and sam (her mentor).
# Alice puts a book on the shelf and starts a plan: two chapters every Monday at 09:00.
/book add The Left Hand of Darkness | Ursula K. Le Guin | 6
/book start 1 every monday at 09:00 2 chapters
/book questions 1 | What does Genly misread on his first day in Karhide? | Would you trust Estraven?
# An hour passes; the scheduler posts the first prompt, with its questions and a Reflect button.
:advance 1h
# Bob clicks Reflect. The modal is asked field by field (an empty answer keeps the default).
:as bob
:click p1 Reflect

I did not expect the cold to feel like a character.

# Carol reflects straight from the slash command, then joins the discussion in the prompt's thread.
:as carol
/reflect Shifgrethor is the whole book in one word: pride as politics.
:thread p1
Bob, the cold is politics too: nobody in Karhide can afford to stand alone.
:as bob
Good point. The ice makes everyone depend on each other.
:react p1 :fire:
:back
# Six days later, a day before the next step, the bot nudges whoever has not reflected yet.
:as alice
:advance 6d
# Monday, 09:00: the second prompt arrives, and the digest of the first step.
:advance 1d
# A digest can also be asked for: here, the whole book so far.
/book summary book
# Bob exports his reflections as a Markdown post; the bot sends it to him privately.
:as bob
/reflect export
# Bob's App Home shows his groups, his progress and his latest reflections.
:home
# Part two: a mentee and a mentor read The Innovator's Dilemma. Maya asks Sam to mentor her.
:as sam
:as maya
:channel book-club
/mentor @sam
:as sam
:click Accept
# Their pair has its own conversation: a group DM of the two of them and Readalong.
# Maya writes what she wants from this and a goal; Sam agrees.
:as maya
:go group(maya,sam)
/mentor goals
Lead a product team in five years, and learn to see disruption coming.
Spot disruption early in my own product area
:as sam
:click Agree
:as maya
/book add The Innovator’s Dilemma | Clayton Christensen | 4
/book start innovator every monday at 09:00
:advance 1h
# In a pair, a reflection is for the mentor unless Maya says otherwise: Sam gets it privately.
/reflect Need to talk to Sam about this 1:1: our best customers are pulling us away from the new market.
:as sam
:click Reply
Bring one example on Thursday, and try the jobs-to-be-done lens on it.
# Maya turns Sam's feedback into an action item; the next prompt reminds them of it.
:as maya
:click Make it an action item
Map our product to the jobs-to-be-done lens
:advance 7d
# The book ends three weeks later: both are asked to look back at their goals.
:advance 21d
:click Look back
I see it sooner now: I caught one in our roadmap review.
# Maya builds a post from her reflection; Sam's reply goes in only if he agrees, and the
# file reaches Maya only once he approves. Learning in public, together.
/mentor publish
1
1
:as sam
:click Allow this one
:click Approve and send it to them
:as maya
:quit
"""
