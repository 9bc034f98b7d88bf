"""Rules of internal notes: staff comments on an order, never sent to the customer.

Plain Python (no framework, no database): who may edit a note and until when, and what the
list shows of it. Every refusal is raised here, as a ``NoteRefused`` naming why.
"""

from datetime import datetime, timedelta

EDIT_WINDOW = timedelta(minutes=15)
FIRST_LINE_MAX = 120


class NoteRefused(Exception):
    """A note change the rules do not allow; ``kind`` is ``not_author`` or ``edit_window_closed``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def check_edit(note_author_id: int, editor_id: int | None, created_at: datetime, now: datetime) -> None:
    """Only the author edits a note, and only within ``EDIT_WINDOW`` of writing it: a note is a
    record of what was known when; later thoughts go into a new note."""
    if editor_id is None or note_author_id != editor_id:
        raise NoteRefused("not_author", "Only the author of a note may edit it.")
    if now - created_at > EDIT_WINDOW:
        minutes = int(EDIT_WINDOW.total_seconds() // 60)
        raise NoteRefused(
            "edit_window_closed",
            f"A note can be edited only within {minutes} minutes of writing it; add a new note instead.",
        )


def editable_until(created_at: datetime) -> datetime:
    return created_at + EDIT_WINDOW


def clean_body(body: str) -> str:
    """The body as kept: surrounding blank space dropped, line ends as ``\\n``."""
    return body.replace("\r\n", "\n").replace("\r", "\n").strip()


def first_line(body: str) -> str:
    """What the order list shows of a note: its first non-empty line, shortened."""
    for line in body.split("\n"):
        line = line.strip()
        if line:
            return line if len(line) <= FIRST_LINE_MAX else line[: FIRST_LINE_MAX - 1] + "…"
    return ""
