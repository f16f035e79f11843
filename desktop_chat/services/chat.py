"""The chat service: sends messages, streams answers into their documents, runs tools, and announces it all.

One asyncio task per conversation (several conversations may stream at once). Nothing here writes to the
database: the message and the answer's empty document, the streamed patches, the tool executions and the
answer's end all go to the store's writer thread (`StoreWrites`), and what depends on a write is
announced once it is committed. Per delta the task only patches the in-memory `LiveResponse`
(`AnswerCommits` batches the patches into one transaction per flush). Views read the text from
`live_response()`, never from the database, and repaint at their own pace. The history sent with a
request is read on a reader thread, so a long conversation never stalls the window.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from desktop_chat.domain import (
    ApprovalDecision,
    Conversation,
    Message,
    ProviderProfile,
    Response,
    ResponseStatus,
    Role,
    ToolCall,
    ToolStatus,
)
from desktop_chat.llm.client import ChatClient, ChatRequest
from desktop_chat.llm.errors import LLMError
from desktop_chat.llm.events import Finished, ReasoningDelta, Retrying, TextDelta, ToolCallDelta, UsageReport
from desktop_chat.secrets import SecretStore
from desktop_chat.services import request_messages
from desktop_chat.services.answer_commits import AnswerCommits
from desktop_chat.services.background_reads import BackgroundReads
from desktop_chat.services.chat_clients import ChatClients, ClientError
from desktop_chat.services.chat_events import (
    ApprovalRequest,
    ApprovalResolved,
    ResponseUpdate,
    StreamEnded,
    ToolUpdate,
)
from desktop_chat.services.conversations import APP_PARAMS, ConversationService, tools_choice
from desktop_chat.services.live import LiveResponse
from desktop_chat.services.store_writes import StoreWrites
from desktop_chat.services.titles import TITLE_TIMEOUT_S, heuristic_title, model_title
from desktop_chat.services.tool_runs import CANCELLED_BY_USER, DECLINED, ToolRunner
from desktop_chat.settings import (
    AUTO_TITLE,
    DEFAULT_MODEL,
    DEFAULT_PROFILE,
    MAX_TOOL_ROUNDS,
    SYSTEM_PROMPT,
    Settings,
)
from desktop_chat.storage import NotFoundError, Repo
from desktop_chat.tools.registry import ToolRegistry

log = logging.getLogger(__name__)

__all__ = ["CANCELLED_BY_USER", "DECLINED", "ChatError", "ChatService", "Target"]

STOPPED = "Stopped. The text received so far is kept."
QUIT = "desktop_chat was closed before this answer finished; the text received so far is kept."
StartJob = Callable[[Repo], Message]  # stores what an answer starts from; the assistant message


class ChatError(Exception):
    """A chat action that cannot be done now; the message is for a person."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a conversation's requests go."""

    profile: ProviderProfile
    model: str


class _Stream:
    """A conversation's running answer: the write that starts it, its document and the task that fills it."""

    def __init__(self, conversation_id: int, started: asyncio.Future[Message]) -> None:
        self.conversation_id = conversation_id
        self.started = started  # the assistant message, once the start is stored
        self.live: LiveResponse | None = None
        self.client: ChatClient | None = None
        self.task: asyncio.Task[None] | None = None
        self.final_status = ResponseStatus.CANCELLED  # what a cancellation means (stop, or quit)
        self.done = asyncio.Event()  # set once the answer's end is stored


class ChatService(QObject):
    """Sends, streams, stops, regenerates, continues and edits; every change announced by a signal.

    Signals:
        response_patched(ResponseUpdate): an answer's document changed (after each commit of it).
        stream_started(int, int): conversation id, assistant message id: an answer began streaming.
        stream_finished(StreamEnded): an answer stopped being written (done, error, stopped, interrupted).
        tool_status_changed(ToolUpdate): a tool execution moved on (queued, running, ended).
        messages_changed(int): conversation id: its branch changed (new message, regenerate, edit).
        approval_requested(ApprovalRequest): a tool call waits for the person's decision.
        approval_resolved(ApprovalResolved): a waiting call was decided (or its answer stopped).
    """

    response_patched = Signal(ResponseUpdate)
    stream_started = Signal(int, int)
    stream_finished = Signal(StreamEnded)
    tool_status_changed = Signal(ToolUpdate)
    messages_changed = Signal(int)
    approval_requested = Signal(ApprovalRequest)
    approval_resolved = Signal(ApprovalResolved)

    def __init__(
        self,
        repo: Repo,
        conversations: ConversationService,
        settings: Settings,
        secrets: SecretStore,
        *,
        tools: ToolRegistry,
        writes: StoreWrites,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._repo = repo  # reads on this thread; every write goes through `writes`
        self._conversations = conversations
        self._settings = settings
        self._secrets = secrets
        self._tools = tools
        self._writes = writes
        self._reads = BackgroundReads(repo)
        self._commits = AnswerCommits(writes, self._announce, self)
        self._runner = ToolRunner(
            tools,
            writes,
            settings,
            conversations,
            moved=self._tool_moved,
            asked=self.approval_requested.emit,
            answered=self.approval_resolved.emit,
        )
        self._streams: dict[int, _Stream] = {}
        self._clients = ChatClients(settings, secrets)
        self._title_tasks: set[asyncio.Task[None]] = set()
        self.auto_title = True  # scripted runs turn the model title off

    # ---- what views ask ----------------------------------------------------------------------------

    @property
    def approval_mode(self) -> str:
        """ "ask" the person; scripted runs: "all" or "none" (--approve-tools)."""
        return self._runner.approval_mode

    @approval_mode.setter
    def approval_mode(self, mode: str) -> None:
        self._runner.approval_mode = mode

    @property
    def commit_times_ms(self) -> deque[float]:
        """How long each flush's transaction took, on the writer thread (benchmarks)."""
        return self._commits.commit_times_ms

    def is_streaming(self, conversation_id: int) -> bool:
        """True while an answer of this conversation is being written (from `send` to its stored end)."""
        return conversation_id in self._streams

    def streaming_conversations(self) -> list[int]:
        """Conversations with an answer being written."""
        return list(self._streams)

    def live_response(self, response_id: int) -> Response | None:
        """The in-memory document of an answer being written (None once its end is stored)."""
        live = self._commits.get(response_id)
        return live.snapshot() if live is not None else None

    def set_session_key(self, profile_id: int, key: str) -> None:
        """Use `key` for a profile during this run only (from OPENAI_API_KEY; never written anywhere)."""
        self._clients.set_session_key(profile_id, key)

    def target(self, conversation: Conversation | None) -> Target | None:
        """The provider and model a conversation uses (its own, else the defaults), if any is set up."""
        choices = (
            [(conversation.profile_id, conversation.model)]
            if conversation and conversation.profile_id
            else []
        )
        choices.append((self._settings.get(DEFAULT_PROFILE), self._settings.get(DEFAULT_MODEL)))
        for profile_id, model in choices:
            if not profile_id:
                continue
            try:
                profile = self._repo.get_profile(profile_id)
            except (NotFoundError, ValueError):
                continue
            chosen = model or profile.default_model
            return Target(profile, chosen) if chosen else None
        return None

    # ---- actions -----------------------------------------------------------------------------------

    def send(self, conversation_id: int, text: str) -> None:
        """Add a user message after the conversation's current leaf and stream the answer.

        Raises ChatError when the conversation is busy or has no model; the rest happens once stored.
        """
        text = text.strip()
        if not text:
            raise ChatError("Type a message first.")
        conversation = self._ready(conversation_id)
        parent = conversation.active_leaf_id
        title = None if conversation.title else heuristic_title(text)

        def start(repo: Repo, target: Target) -> Message:
            user = repo.add_message(conversation_id, text, parent_id=parent)
            if title is not None:
                repo.update_conversation(conversation_id, title=title, touch=False)
            return repo.start_response(
                conversation_id, user.id, model=target.model, provider=target.profile.name
            )

        self._answer(conversation, start, first_exchange=parent is None)

    def regenerate(self, assistant_message_id: int) -> None:
        """A new answer to the same message, as a sibling branch."""
        message = self._repo.get_message(assistant_message_id)
        if message.role is not Role.ASSISTANT:
            raise ChatError("Only an answer can be regenerated.")
        conversation = self._ready(message.conversation_id)

        def start(repo: Repo, target: Target) -> Message:
            return repo.start_response(
                conversation.id, message.parent_id, model=target.model, provider=target.profile.name
            )

        self._answer(conversation, start, first_exchange=False)

    def edit_and_resend(self, user_message_id: int, text: str) -> None:
        """A new version of a user message (a sibling branch), answered."""
        original = self._repo.get_message(user_message_id)
        if original.role is not Role.USER:
            raise ChatError("Only your own messages can be edited.")
        text = text.strip()
        if not text:
            raise ChatError("The edited message is empty.")
        conversation = self._ready(original.conversation_id)

        def start(repo: Repo, target: Target) -> Message:
            edited = repo.add_message(conversation.id, text, parent_id=original.parent_id)
            return repo.start_response(
                conversation.id, edited.id, model=target.model, provider=target.profile.name
            )

        self._answer(conversation, start, first_exchange=False)

    def continue_answer(self, assistant_message_id: int) -> None:
        """Continue an answer that was interrupted, stopped, failed, or cut at the length limit."""
        message = self._repo.get_message(assistant_message_id)
        response = message.response
        if response is None:
            raise ChatError("Only an answer can be continued.")
        if not response.can_continue:
            raise ChatError("This answer is complete.")
        conversation = self._ready(message.conversation_id)

        def start(repo: Repo, _target: Target) -> Message:
            repo.reopen_response(response.id)
            repo.update_conversation(conversation.id, active_leaf_id=message.id)
            return repo.get_message(message.id)

        self._answer(conversation, start, first_exchange=False)

    def stop(self, conversation_id: int) -> None:
        """Stop the conversation's answer: the HTTP stream is closed, the partial text kept as cancelled."""
        stream = self._streams.get(conversation_id)
        if stream is not None and stream.task is not None:
            stream.final_status = ResponseStatus.CANCELLED
            stream.task.cancel()

    async def started(self, conversation_id: int) -> Message | None:
        """The answer being written, once its start is stored (None when nothing is being written)."""
        stream = self._streams.get(conversation_id)
        if stream is None:
            return None
        try:
            return await asyncio.shield(stream.started)
        except Exception:  # the start could not be stored (reported by the writer)
            return None

    async def wait(self, conversation_id: int) -> None:
        """Until the conversation's answer (tool rounds included) has ended and its end is stored."""
        stream = self._streams.get(conversation_id)
        if stream is not None:
            await stream.done.wait()

    async def shutdown(self) -> None:
        """Stop every answer as interrupted (HTTP closed, text kept), store what is queued, close clients."""
        streams = list(self._streams.values())
        for stream in streams:
            stream.final_status = ResponseStatus.INTERRUPTED
            if stream.task is not None:
                stream.task.cancel()
        for stream in streams:
            await stream.done.wait()
        for task in list(self._title_tasks):
            task.cancel()
        await asyncio.gather(*self._title_tasks, return_exceptions=True)
        self.flush()
        await self._writes.idle()
        await self._clients.aclose()
        self._reads.close()

    def flush(self) -> None:
        """Hand every queued patch to the writer now (announced once stored)."""
        self._commits.flush()

    # ---- tools (the runner does the work; the window asks and answers here) ------------------------

    def pending_approvals(self, conversation_id: int | None = None) -> list[ApprovalRequest]:
        """Calls waiting for the person (of one conversation, or all)."""
        return self._runner.pending(conversation_id)

    def approve(self, execution_id: int, decision: ApprovalDecision) -> bool:
        """Answer a waiting call (once, this conversation, always, or deny). False if nothing waits."""
        return self._runner.approve(execution_id, decision)

    def cancel_tool(self, execution_id: int) -> bool:
        """Cancel one running call (the answer goes on; the model is told). False if it is not running."""
        return self._runner.cancel(execution_id)

    def _tool_moved(self, live: LiveResponse, execution_id: int, call: ToolCall, status: ToolStatus) -> None:
        live.set_tool_status(call.id, status)
        update = ToolUpdate(live.conversation_id, live.response_id, execution_id, call.id, call.name, status)
        self._commits.flush(then=lambda: self.tool_status_changed.emit(update))

    # ---- starting an answer ------------------------------------------------------------------------

    def _ready(self, conversation_id: int) -> Conversation:
        if conversation_id in self._streams:
            raise ChatError("This conversation is still answering; stop it first.")
        conversation = self._repo.get_conversation(conversation_id)
        if self.target(conversation) is None:
            raise ChatError("Choose a provider and a model first.")
        return conversation

    def _answer(
        self, conversation: Conversation, start: Callable[[Repo, Target], Message], *, first_exchange: bool
    ) -> None:
        """Queue the start of an answer and the task that streams it (from now on the conversation is
        busy: a second send is refused, `stop` and `wait` work)."""
        target = self.target(conversation)
        assert target is not None
        started = self._writes.future(lambda repo: start(repo, target), label="your message")
        stream = _Stream(conversation.id, started)
        self._streams[conversation.id] = stream
        stream.task = asyncio.ensure_future(self._run(stream, conversation, target, first_exchange))
        stream.task.add_done_callback(lambda _task: self._ensure_finished(stream))

    def _begin(self, stream: _Stream, message: Message) -> LiveResponse:
        """The start is stored: hold the answer's document and tell the views."""
        assert message.response is not None
        live = LiveResponse(stream.conversation_id, message.id, message.response)
        stream.live = live
        self._commits.track(live)
        self.messages_changed.emit(stream.conversation_id)
        self._conversations.notify_changed(stream.conversation_id)
        self.stream_started.emit(stream.conversation_id, message.id)
        return live

    # ---- the task ----------------------------------------------------------------------------------

    async def _run(
        self, stream: _Stream, conversation: Conversation, target: Target, first_exchange: bool
    ) -> None:
        try:
            message = await asyncio.shield(stream.started)
        except asyncio.CancelledError:  # stopped before the start was stored: store it, then end it
            if await self._started_anyway(stream) is not None:
                self._finish(stream, stream.final_status, self._stop_note(stream))
            raise
        except Exception:  # the start could not be stored (reported by the writer)
            self._drop(stream)
            return
        live = self._begin(stream, message)
        # As stored now: changes made before this answer (its settings, its tools) are in by now.
        conversation = self._repo.get_conversation(stream.conversation_id)
        status = ResponseStatus.DONE
        error: str | None = None
        try:
            stream.client = self._clients.client(target.profile)
            await self._stream_rounds(stream, live, conversation, target)
        except asyncio.CancelledError:
            status, error = stream.final_status, self._stop_note(stream)
        except (ClientError, LLMError) as exc:
            status, error = ResponseStatus.ERROR, str(exc)
            log.warning("Answer %d failed: %s", live.response_id, exc)
        except Exception as exc:  # a bug must not leave the answer streaming forever
            log.exception("Answer %d failed unexpectedly", live.response_id)
            status, error = ResponseStatus.ERROR, f"Unexpected error: {type(exc).__name__}: {exc}"
        finally:
            self._finish(stream, status, error)
        if (
            status is ResponseStatus.DONE
            and first_exchange
            and self.auto_title
            and self._settings.get(AUTO_TITLE)
            and stream.client is not None
        ):
            self._start_title(stream, stream.client, target.model)

    async def _started_anyway(self, stream: _Stream) -> LiveResponse | None:
        try:
            message = await stream.started
        except Exception:
            self._drop(stream)
            return None
        return self._begin(stream, message)

    @staticmethod
    def _stop_note(stream: _Stream) -> str:
        return STOPPED if stream.final_status is ResponseStatus.CANCELLED else QUIT

    async def _stream_rounds(
        self, stream: _Stream, live: LiveResponse, conversation: Conversation, target: Target
    ) -> None:
        system = conversation.system_prompt
        if system is None:
            system = self._settings.get(SYSTEM_PROMPT)
        base = await self._reads.run(request_messages.history(live.message_id, system))
        params = {k: v for k, v in conversation.params.items() if v is not None and k not in APP_PARAMS}
        max_rounds = max(0, self._settings.get(MAX_TOOL_ROUNDS))
        chosen = tools_choice(conversation.params)
        if chosen != []:
            await self._tools.refresh()  # MCP servers start here, on the first answer that may use them
        offered = [] if chosen == [] else self._tools.api_tools(chosen)
        while True:
            request = ChatRequest(
                target.model,
                [*base, *request_messages.answer_so_far(self._repo, live)],
                (offered if live.round < max_rounds else None) or None,
                params,
            )
            await self._stream_round(stream, live, request)
            calls = live.close_round() if live.round_calls() else []
            if not calls:
                return
            if live.round > max_rounds:
                live.error = f"Stopped after {max_rounds} rounds of tool calls (see Settings)."
                for call in calls:
                    live.set_tool_status(call.id, ToolStatus.CANCELLED)
                return
            await self._runner.run_round(live, calls)

    async def _stream_round(self, stream: _Stream, live: LiveResponse, request: ChatRequest) -> None:
        assert stream.client is not None
        live.finish_reason = None
        schedule = self._commits.schedule
        try:
            async with aclosing(stream.client.stream(request)) as events:
                async for event in events:
                    if type(event) is TextDelta:
                        if live.status is not ResponseStatus.STREAMING:
                            live.set_status(ResponseStatus.STREAMING)
                            live.note = None
                        live.add_text(event.text)
                    elif type(event) is ReasoningDelta:
                        live.set_status(ResponseStatus.STREAMING)
                        live.add_reasoning(event.text)
                    elif type(event) is ToolCallDelta:
                        live.set_status(ResponseStatus.STREAMING)
                        live.add_tool_delta(event)
                    elif type(event) is UsageReport:
                        live.report_usage(event.usage)
                    elif type(event) is Finished:
                        live.finish_reason = event.reason
                    elif type(event) is Retrying:
                        live.note = (
                            f"{event.reason} Retrying in {event.delay:.0f} s (attempt {event.attempt + 1})."
                        )
                        live.dirty = True
                    schedule()
        finally:
            live.end_usage_round()

    # ---- committing --------------------------------------------------------------------------------

    def _announce(self, changed: list[LiveResponse]) -> None:
        """A flush is stored: tell the views which answers it changed."""
        for live in changed:
            self.response_patched.emit(self._update(live))

    @staticmethod
    def _update(live: LiveResponse) -> ResponseUpdate:
        return ResponseUpdate(
            live.conversation_id,
            live.message_id,
            live.response_id,
            live.status,
            live.text_length,
            dict(live.tool_status),
            live.note,
        )

    def _ensure_finished(self, stream: _Stream) -> None:
        """A task cancelled before it first ran never reached its `try`: end its answer once started."""
        if stream.live is not None or stream.done.is_set():
            return
        if not stream.task or not stream.task.cancelled():
            return

        def started(future: asyncio.Future[Message]) -> None:
            if future.cancelled() or future.exception() is not None:
                self._drop(stream)
                return
            self._begin(stream, future.result())
            self._finish(stream, stream.final_status, self._stop_note(stream))

        stream.started.add_done_callback(started)

    def _drop(self, stream: _Stream) -> None:
        """An answer that never started (its start could not be stored)."""
        self._streams.pop(stream.conversation_id, None)
        stream.done.set()
        self.messages_changed.emit(stream.conversation_id)

    def _finish(self, stream: _Stream, status: ResponseStatus, error: str | None) -> None:
        """End an answer: its last patches, the compacted document, its index entry, on the writer."""
        live = stream.live
        assert live is not None
        if stream.done.is_set() or live.ending:
            return
        for call_id, tool_status in list(live.tool_status.items()):
            if tool_status in (ToolStatus.QUEUED, ToolStatus.RUNNING):
                live.set_tool_status(call_id, ToolStatus.CANCELLED)
        if live.round_calls():  # a round cut off while its calls were arriving: keep what came
            live.close_round()
        live.status, live.error = status, error or live.error  # a done answer may carry a note
        response_id = live.response_id

        def close_open_tools(repo: Repo) -> None:
            for execution in repo.list_tool_executions(response_id).items:
                if execution.status in (ToolStatus.QUEUED, ToolStatus.RUNNING):
                    repo.update_tool_execution(execution.id, ToolStatus.CANCELLED, error="Not finished.")

        def stored() -> None:
            self._streams.pop(stream.conversation_id, None)
            stream.done.set()
            self.response_patched.emit(self._update(live))
            self.stream_finished.emit(StreamEnded(stream.conversation_id, response_id, status))
            self._conversations.notify_changed(stream.conversation_id)

        self._commits.finish(live, status, also=close_open_tools, then=stored)

    # ---- titles --------------------------------------------------------------------------------------

    def _start_title(self, stream: _Stream, client: ChatClient, model: str) -> None:
        task = asyncio.ensure_future(self._title(stream, client, model))
        self._title_tasks.add(task)
        task.add_done_callback(self._title_tasks.discard)

    async def _title(self, stream: _Stream, client: ChatClient, model: str) -> None:
        """Ask the model for a short title of the first exchange; keep the first-words title on failure."""
        conversation_id = stream.conversation_id
        await stream.done.wait()  # the answer's text is stored
        try:
            branch = self._conversations.transcript(conversation_id)
            exchange = [m for m in branch if m.role in (Role.USER, Role.ASSISTANT)][:2]
            if len(exchange) < 2:
                return
            title = await asyncio.wait_for(model_title(client, model, exchange), TITLE_TIMEOUT_S)
        except (LLMError, TimeoutError, NotFoundError) as exc:
            log.info("No model title for conversation %d: %s", conversation_id, exc)
            return
        if title and self._repo.get_conversation(conversation_id).title == heuristic_title(exchange[0].text):
            self._conversations.rename(conversation_id, title)
