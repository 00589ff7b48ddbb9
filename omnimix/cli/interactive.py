"""``migrate --interactive``: review each node's migration, concern by concern and hunk by hunk.

Questions go to stderr and answers are read from stdin, one line each; when stdin is not a terminal
the answers are read the same way (a script), and each is echoed after its question. The end of the
input quits. Only the accepted hunks are kept; they are verified and written like any migration.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from omnimix.report.diff import unified_diff
from omnimix.results import NodeResult, Status
from omnimix.review import IMPORTS_AND_BASES, Hunk, accepted_result, node_hunks

NODE_CHOICES = {"a": "accept every change of this node", "s": "skip this node (write none of it)",
                "r": "review it concern by concern", "d": "show the node's diff", "q": "quit: skip everything not "
                "accepted yet, then verify and write what was accepted"}
CONCERN_CHOICES = {"a": "accept every hunk of this concern", "s": "skip this concern",
                   "r": "review it hunk by hunk", "d": "show the concern's hunks", "q": NODE_CHOICES["q"]}
HUNK_CHOICES = {"a": "accept this hunk", "s": "skip this hunk", "d": "show the hunk again", "q": NODE_CHOICES["q"]}


class Quit(Exception):
    """The reviewer quit: everything not accepted yet is skipped."""


class Prompter:
    """Asks on ``err`` and reads one answer per line from ``answers``."""

    def __init__(self, answers: TextIO | None = None, err: TextIO | None = None) -> None:
        self.answers = answers or sys.stdin
        self.err = err or sys.stderr
        self.scripted = not _isatty(self.answers)
        self.colour = _isatty(self.err)

    def ask(self, question: str, choices: dict[str, str]) -> str:
        """The letter of the chosen answer; a word that starts with it will do; ``q`` at the end of input."""
        while True:
            self.err.write(f"{question} [{'/'.join(choices)}/?] ")
            self.err.flush()
            line = self.answers.readline()
            if not line:
                self.err.write("(end of input: quit)\n")
                return "q"
            answer = line.strip().lower()
            if self.scripted:
                self.err.write(answer + "\n")
            if answer and answer[0] in choices and (len(answer) == 1 or answer.isalpha()):
                return answer[0]
            self.err.write("".join(f"  {key}  {meaning}\n" for key, meaning in choices.items()))

    def show(self, diff: str) -> None:
        if not self.colour:
            self.err.write(diff)
            return
        for line in diff.splitlines(keepends=True):
            colour = ("36" if line.startswith("@@") else "1" if line.startswith(("---", "+++", "diff "))
                      else "32" if line.startswith("+") else "31" if line.startswith("-") else "")
            self.err.write(f"\x1b[{colour}m{line.rstrip(chr(10))}\x1b[0m\n" if colour else line)

    def say(self, text: str) -> None:
        self.err.write(text + "\n")


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def review(results: Sequence[NodeResult], prompter: Prompter) -> list[NodeResult]:
    """Each changed node reduced to the hunks the reviewer accepts; other results unchanged."""
    reviewed: list[NodeResult] = []
    stopped = False
    for result in results:
        if result.status is not Status.CHANGED:
            reviewed.append(result)
            continue
        hunks = node_hunks(result)
        accepted: set = set()
        if not stopped:
            try:
                _review_node(result, hunks, accepted, prompter)
            except Quit:
                stopped = True
                prompter.say("quit: the rest is skipped; what was accepted is verified and written")
            prompter.say(f"{result.display}: {len(accepted)} of {len(hunks)} hunk(s) accepted")
        reviewed.append(accepted_result(result, hunks, accepted))
    return reviewed


def _groups(hunks: list[Hunk]) -> dict[str, list[Hunk]]:
    groups: dict[str, list[Hunk]] = {}
    for hunk in hunks:
        if hunk.concern != IMPORTS_AND_BASES:
            groups.setdefault(hunk.concern, []).append(hunk)
    rest = [hunk for hunk in hunks if hunk.concern == IMPORTS_AND_BASES]
    if rest:
        groups[IMPORTS_AND_BASES] = rest
    return groups


def _review_node(result: NodeResult, hunks: list[Hunk], accepted: set, prompter: Prompter) -> None:
    groups = _groups(hunks)
    prompter.say(f"\n{result.display}: {len(hunks)} hunk(s) in {len(result.changed_files)} file(s); "
                 + ", ".join(f"{concern} {len(group)}" for concern, group in groups.items()))
    while True:
        answer = prompter.ask(f"{result.display}: accept all, skip, review, diff, quit?", NODE_CHOICES)
        if answer == "d":
            prompter.show("".join(unified_diff(c.display, c.before, c.after) for c in result.changed_files))
            continue
        if answer == "q":
            raise Quit
        if answer == "a":
            accepted.update(hunk.key for hunk in hunks)
        elif answer == "r":
            for concern, group in groups.items():
                _review_concern(concern, group, accepted, prompter)
        return


def _review_concern(concern: str, hunks: list[Hunk], accepted: set, prompter: Prompter) -> None:
    while True:
        note = " (they go with the changes above: skipping them may fail the gate)" \
            if concern == IMPORTS_AND_BASES else ""
        answer = prompter.ask(f"  {concern}: {len(hunks)} hunk(s){note}; accept, skip, review, diff, quit?",
                              CONCERN_CHOICES)
        if answer == "d":
            prompter.show("".join(hunk.diff for hunk in hunks))
            continue
        if answer == "q":
            raise Quit
        if answer == "a":
            accepted.update(hunk.key for hunk in hunks)
        elif answer == "r":
            for number, hunk in enumerate(hunks, start=1):
                _review_hunk(concern, number, len(hunks), hunk, accepted, prompter)
        return


def _review_hunk(concern: str, number: int, count: int, hunk: Hunk, accepted: set, prompter: Prompter) -> None:
    prompter.show(hunk.diff)
    while True:
        answer = prompter.ask(f"    {concern} hunk {number}/{count}: accept, skip, diff, quit?", HUNK_CHOICES)
        if answer == "d":
            prompter.show(hunk.diff)
            continue
        if answer == "q":
            raise Quit
        if answer == "a":
            accepted.add(hunk.key)
        return
