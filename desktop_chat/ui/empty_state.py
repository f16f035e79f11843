"""What the window says while no conversation is open: the page instead of a transcript, and the hints
in the message box when sending is not possible."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

NO_PROVIDER_HINT = "Add a model provider to start chatting."
NO_MODEL_HINT = "Choose a model in the header to start chatting."
REVIEW_HINT = "Read-only review: a copy of the file is shown; sending is off and nothing is saved to it."
WELCOME = (
    "<h2>Welcome to Desktop Chat</h2>"
    "<p>Your conversations will appear on the left, kept in one file on this computer.</p>"
    f"<p>{NO_PROVIDER_HINT}</p><p>Press <b>Ctrl+N</b> for a new chat.</p>"
)
PICK_ONE = "<p>Select a conversation.</p>"


class EmptyState(QLabel):
    """The page shown instead of a transcript: a welcome while there is no conversation at all."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)

    def show_for(self, conversations: int) -> None:
        """The welcome when there are no conversations, else the prompt to pick one."""
        self.setText(WELCOME if conversations == 0 else PICK_ONE)
