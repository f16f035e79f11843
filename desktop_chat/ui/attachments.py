"""Attaching text files to the open conversation (Ctrl+O, or files dropped on the message box): the
model may read them with the read_text_file tool, and the message box names them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from desktop_chat.services.conversations import ConversationService
from desktop_chat.ui.common.window_part import WindowPart
from desktop_chat.ui.composer import Composer


class FileAttacher(WindowPart):
    """Attaches files to the conversation `current` names, opening a new one (`open_new`) if none is.

    What was attached, or why not, comes out of `note`.
    """

    def __init__(
        self,
        conversations: ConversationService,
        composer: Composer,
        window: QWidget,
        *,
        current: Callable[[], int | None],
        open_new: Callable[[Callable[[int], object]], None],
    ) -> None:
        super().__init__(window, current=current)
        self._conversations = conversations
        self._composer = composer
        self._open_new = open_new
        composer.files_dropped.connect(self.attach)

    def choose(self) -> None:
        """Ctrl+O: pick text files the model may read (with the read_text_file tool)."""
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self._window, "Attach text files")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.filesSelected.connect(self.attach)
        dialog.open()

    def attach(self, paths: list[str]) -> list[str]:
        """Attach files to the open conversation (a new one if none is open) and mention them in the
        message box; returns the full paths attached."""
        conversation_id = self._current()
        if conversation_id is None:  # into a new conversation, once it is stored
            self._open_new(lambda _id: self.attach(paths))
            return []
        attached: list[str] = []
        problems: list[str] = []
        for path in paths:
            try:
                attached.append(str(self._conversations.attach_file(conversation_id, Path(path))))
            except ValueError as exc:
                problems.append(str(exc))
        if attached:
            self._composer.mention_files(attached)
        names = ", ".join(Path(p).name for p in attached)
        note = f"Attached {names}: the model can read it." if attached else ""
        self.note.emit(" ".join(x for x in (note, *problems) if x))
        return attached
