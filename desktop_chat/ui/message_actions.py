"""What the actions on the transcript's messages do: edit (into the composer; sending it starts a new
branch), regenerate, continue, retry, switch branch, answer a tool approval, cancel a running tool, and
copy the last answer."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from desktop_chat.domain import ApprovalDecision, Message, Role
from desktop_chat.services.chat import ChatError, ChatService
from desktop_chat.services.conversations import ConversationService
from desktop_chat.ui.composer import Composer
from desktop_chat.ui.transcript.model import TranscriptModel
from desktop_chat.ui.transcript.view import TranscriptView


class MessageActions(QObject):
    """Connects the transcript's buttons and keys (and the composer's Up key) to the services.

    What the person should hear about (an action refused, a copy made) comes out of `note`.
    """

    note = Signal(str)

    def __init__(
        self,
        chat: ChatService,
        conversations: ConversationService,
        transcript: TranscriptView,
        model: TranscriptModel,
        composer: Composer,
    ) -> None:
        super().__init__(transcript)
        self._chat = chat
        self._transcript = transcript
        self._model = model
        self._composer = composer
        view = transcript
        view.edit_requested.connect(self.edit_message)
        view.regenerate_requested.connect(lambda mid: self._chat_action(chat.regenerate, mid))
        view.continue_requested.connect(lambda mid: self._chat_action(chat.continue_answer, mid))
        view.retry_requested.connect(lambda mid: self._chat_action(chat.continue_answer, mid))  # text kept
        view.switch_requested.connect(conversations.switch_branch)
        view.copied.connect(lambda _text: self.note.emit("Copied to the clipboard."))
        view.approval_decided.connect(self._decide_approval)
        view.tool_cancel_requested.connect(chat.cancel_tool)
        composer.edit_last_requested.connect(self._edit_last)

    def _decide_approval(self, execution_id: int, decision: ApprovalDecision) -> None:
        if not self._chat.approve(execution_id, decision):
            self.note.emit("That tool call is no longer waiting.")

    def _chat_action(self, action: Callable[[int], object], message_id: int) -> None:
        try:
            action(message_id)
        except ChatError as exc:
            self.note.emit(str(exc))

    def edit_message(self, message: Message) -> None:
        """Put a message of yours into the composer; sending it then starts a new branch."""
        self._composer.start_editing(message.id, message.text)

    def _newest(self, wanted: Callable[[Message], bool]) -> Message | None:
        model = self._model
        for row in range(model.rowCount() - 1, -1, -1):
            message = model.message_at(row)
            if message is not None and wanted(message):
                return message
        return None

    def _edit_last(self) -> None:
        message = self._newest(lambda m: m.role is Role.USER)
        if message is not None:
            self.edit_message(message)

    def send_edit(self, message_id: int, text: str) -> None:
        """Send the edited text of a message as a new branch (the composer's edit)."""
        try:
            self._chat.edit_and_resend(message_id, text)
        except ChatError as exc:
            self.note.emit(str(exc))
            return
        self._composer.finish_editing()
        self._transcript.follow_bottom()

    def copy_last_answer(self) -> str | None:
        """Ctrl+Shift+C: the open conversation's last answer (its Markdown) onto the clipboard."""
        message = self._newest(lambda m: m.role is Role.ASSISTANT and bool(m.text))
        if message is None:
            self.note.emit("There is no answer to copy yet.")
            return None
        self._transcript.copy_text(message.text)
        return message.text
