"""The chat service: sends messages, streams answers into their documents, runs tools, and announces it all.

One asyncio task per conversation (several conversations may stream at once). Per delta the task only
patches the in-memory `LiveResponse` and marks it dirty; a flush commits every queued patch of every
streaming answer in one transaction, at most `FLUSH_INTERVAL_MS` after the first patch queued since the
last flush (so a kill loses at most that much), and at once when an answer ends, fails, is stopped, or the
app quits. After each commit the service emits `response_patched` for each answer the commit changed.
Views read the text from `live_response()`, never from the database, and repaint at their own pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_chat.domain import (
    ApprovalDecision,
    Conversation,
    Message,
    ProviderProfile,
    Response,
    ResponsePatch,
    ResponseStatus,
    Role,
    ToolCall,
    ToolExecution,
    ToolStatus,
)
from desktop_chat.llm.client import ChatClient, ChatRequest
from desktop_chat.llm.endpoint import Endpoint, Timeouts
from desktop_chat.llm.errors import LLMError
from desktop_chat.llm.events import Finished, ReasoningDelta, Retrying, TextDelta, ToolCallDelta, UsageReport
from desktop_chat.llm.messages import answer_messages, to_api_messages
from desktop_chat.llm.retry import RetryPolicy
from desktop_chat.secrets import KeychainError, SecretStore
from desktop_chat.services.chat_events import (
    ApprovalRequest,
    ApprovalResolved,
    ResponseUpdate,
    StreamEnded,
    ToolUpdate,
)
from desktop_chat.services.conversations import APP_PARAMS, ConversationService, tools_choice
from desktop_chat.services.live import LiveResponse
from desktop_chat.settings import (
    ALWAYS_ALLOWED_TOOLS,
    AUTO_TITLE,
    CONNECT_TIMEOUT,
    DEFAULT_MODEL,
    DEFAULT_PROFILE,
    MAX_TOOL_ROUNDS,
    PROXY_URL,
    READ_TIMEOUT,
    RETRY_ATTEMPTS,
    SYSTEM_PROMPT,
    TOOL_TIMEOUT,
    Settings,
)
from desktop_chat.storage import NotFoundError, Repo
from desktop_chat.tools.registry import ToolRegistry, ToolResult

log = logging.getLogger(__name__)

FLUSH_INTERVAL_MS = 25  # first queued patch -> commit; keeps delta-to-signal well under 50 ms
STOPPED = "Stopped. The text received so far is kept."
QUIT = "desktop_chat was closed before this answer finished; the text received so far is kept."
TITLE_MAX = 60
TITLE_PROMPT = (
    "Write a title of at most six words for this conversation. Answer with the title only, no quotes."
)
_HISTORY_LIMIT = 100_000  # messages sent as history at most (the path is read in one recursive query)


class ChatError(Exception):
    """A chat action that cannot be done now; the message is for a person."""


DECLINED = "The user declined to run this tool call."
CANCELLED_BY_USER = "The user cancelled this tool call while it ran."


@dataclass(frozen=True, slots=True)
class Target:
    """Where a conversation's requests go."""

    profile: ProviderProfile
    model: str


def heuristic_title(text: str) -> str:
    """A title from the first words of a message (used at once; the model may improve it later)."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"[#>*_`~\[\]]+", " ", line)
    line = " ".join(line.split())
    first = re.match(r"(.+?[.?!])\s", line + " ")  # the first sentence, when it says enough
    if first and len(line) > TITLE_MAX * 2 // 3 and len(first.group(1).split()) >= 3:
        line = first.group(1).rstrip(".")
    if len(line) <= TITLE_MAX:
        return line
    cut = line[:TITLE_MAX].rsplit(" ", 1)[0]
    return (cut if len(cut) > TITLE_MAX // 2 else line[:TITLE_MAX]).rstrip(" ,.;:") + "…"


def clean_model_title(text: str) -> str:
    """A model's title answer, without quotes, markdown or a trailing period."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"^(title\s*:\s*)", "", line.strip(), flags=re.IGNORECASE)
    line = line.strip(" \"'`*#").rstrip(".")
    return heuristic_title(line) if line else ""


class _Stream:
    """A conversation's running answer: its document and the task that fills it."""

    def __init__(self, live: LiveResponse, client: ChatClient) -> None:
        self.live = live
        self.client = client
        self.task: asyncio.Task[None] | None = None
        self.final_status = ResponseStatus.CANCELLED  # what a cancellation means (stop, or quit)
        self.done = asyncio.Event()


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
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._repo = repo
        self._conversations = conversations
        self._settings = settings
        self._secrets = secrets
        self._tools = tools
        self._streams: dict[int, _Stream] = {}
        self._live: dict[int, LiveResponse] = {}  # by response id
        self._failed: list[ResponsePatch] = []  # patches of a commit that failed, tried again next flush
        self._session_keys: dict[int, str] = {}  # profile id -> key for this run only (never stored)
        self._clients: dict[tuple[object, ...], ChatClient] = {}
        self._title_tasks: set[asyncio.Task[None]] = set()
        self.auto_title = True  # scripted runs turn the model title off
        self.approval_mode = "ask"  # "ask" the person; scripted runs: "all" or "none" (--approve-tools)
        self._approvals: dict[int, tuple[ApprovalRequest, asyncio.Future[ApprovalDecision]]] = {}
        self._allowed_here: dict[int, set[str]] = {}  # conversation id -> tools allowed for it
        self._tool_tasks: dict[int, asyncio.Task[ToolResult]] = {}  # execution id -> running call
        self.commit_times_ms: list[float] = []  # for benchmarks
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self.flush)

    # ---- what views ask ----------------------------------------------------------------------------

    def is_streaming(self, conversation_id: int) -> bool:
        """True while an answer of this conversation is being written."""
        return conversation_id in self._streams

    def streaming_conversations(self) -> list[int]:
        """Conversations with an answer being written."""
        return list(self._streams)

    def live_response(self, response_id: int) -> Response | None:
        """The in-memory document of an answer being written (None once it is finished)."""
        live = self._live.get(response_id)
        return live.snapshot() if live is not None else None

    def set_session_key(self, profile_id: int, key: str) -> None:
        """Use `key` for a profile during this run only (from OPENAI_API_KEY; never written anywhere)."""
        self._secrets.remember_for_redaction(key)
        self._session_keys[profile_id] = key

    def target(self, conversation: Conversation | None) -> Target | None:
        """The provider and model a conversation uses (its own, else the defaults), if any is set up."""
        # The conversation's own choice (its model belongs to its profile), else the defaults.
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

    def send(self, conversation_id: int, text: str) -> int:
        """Add a user message after the conversation's current leaf and stream the answer.

        Returns the assistant message id. Raises ChatError when the conversation is busy or has no model.
        """
        text = text.strip()
        if not text:
            raise ChatError("Type a message first.")
        conversation = self._ready(conversation_id)
        user = self._repo.add_message(conversation_id, text, parent_id=conversation.active_leaf_id)
        if not conversation.title:
            self._conversations.rename(conversation_id, heuristic_title(text))
        return self._answer(conversation, user.id, first_exchange=conversation.active_leaf_id is None)

    def regenerate(self, assistant_message_id: int) -> int:
        """A new answer to the same message, as a sibling branch. Returns the new assistant message id."""
        message = self._repo.get_message(assistant_message_id)
        if message.role is not Role.ASSISTANT:
            raise ChatError("Only an answer can be regenerated.")
        conversation = self._ready(message.conversation_id)
        return self._answer(conversation, message.parent_id, first_exchange=False)

    def edit_and_resend(self, user_message_id: int, text: str) -> int:
        """A new version of a user message (a sibling branch), answered. Returns the assistant message id."""
        original = self._repo.get_message(user_message_id)
        if original.role is not Role.USER:
            raise ChatError("Only your own messages can be edited.")
        text = text.strip()
        if not text:
            raise ChatError("The edited message is empty.")
        conversation = self._ready(original.conversation_id)
        edited = self._repo.add_message(conversation.id, text, parent_id=original.parent_id)
        return self._answer(conversation, edited.id, first_exchange=False)

    def continue_answer(self, assistant_message_id: int) -> int:
        """Continue an answer that was interrupted, stopped, failed, or cut at the length limit."""
        message = self._repo.get_message(assistant_message_id)
        response = message.response
        if response is None:
            raise ChatError("Only an answer can be continued.")
        if not response.can_continue:
            raise ChatError("This answer is complete.")
        conversation = self._ready(message.conversation_id)
        reopened = self._repo.reopen_response(response.id)
        self._repo.update_conversation(conversation.id, active_leaf_id=message.id)
        self._launch(conversation, message.id, reopened, first_exchange=False)
        return message.id

    def stop(self, conversation_id: int) -> None:
        """Stop the conversation's answer: the HTTP stream is closed, the partial text kept as cancelled."""
        stream = self._streams.get(conversation_id)
        if stream is not None and stream.task is not None:
            stream.final_status = ResponseStatus.CANCELLED
            stream.task.cancel()

    async def wait(self, conversation_id: int) -> None:
        """Until the conversation's answer (tool rounds included) has ended."""
        stream = self._streams.get(conversation_id)
        if stream is not None:
            await stream.done.wait()

    async def shutdown(self) -> None:
        """Stop every answer as interrupted (HTTP closed, text kept), flush, close the clients."""
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
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()
        self._clients.clear()

    # ---- starting an answer ------------------------------------------------------------------------

    def _ready(self, conversation_id: int) -> Conversation:
        if conversation_id in self._streams:
            raise ChatError("This conversation is still answering; stop it first.")
        conversation = self._repo.get_conversation(conversation_id)
        if self.target(conversation) is None:
            raise ChatError("Choose a provider and a model first.")
        return conversation

    def _answer(self, conversation: Conversation, parent_id: int | None, *, first_exchange: bool) -> int:
        target = self.target(conversation)
        assert target is not None
        message = self._repo.start_response(
            conversation.id, parent_id, model=target.model, provider=target.profile.name
        )
        response = message.response
        assert response is not None
        self._launch(conversation, message.id, response, first_exchange=first_exchange)
        return message.id

    def _launch(
        self, conversation: Conversation, message_id: int, response: Response, *, first_exchange: bool
    ) -> None:
        target = self.target(conversation)
        assert target is not None
        live = LiveResponse(conversation.id, message_id, response)
        try:
            client = self._client(target.profile)
        except ChatError as exc:
            self._repo.finish_response(response.id, ResponseStatus.ERROR, error=str(exc))
            self.messages_changed.emit(conversation.id)
            self.stream_finished.emit(StreamEnded(conversation.id, response.id, ResponseStatus.ERROR))
            return
        stream = _Stream(live, client)
        self._streams[conversation.id] = stream
        self._live[response.id] = live
        stream.task = asyncio.ensure_future(self._run(stream, conversation, target, first_exchange))
        stream.task.add_done_callback(lambda _task: self._ensure_finished(stream))
        self.messages_changed.emit(conversation.id)
        self._conversations.notify_changed(conversation.id)
        self.stream_started.emit(conversation.id, message_id)

    def _client(self, profile: ProviderProfile) -> ChatClient:
        key = self._session_keys.get(profile.id)
        if key is None and profile.needs_key:
            try:
                key = self._secrets.get(profile.key_ref)
            except KeychainError as exc:
                raise ChatError(f"The API key of {profile.name} cannot be read: {exc}") from None
            if not key:
                raise ChatError(f"{profile.name} needs an API key: add it in Settings.")
        timeouts = Timeouts(self._settings.get(CONNECT_TIMEOUT), self._settings.get(READ_TIMEOUT))
        proxy = self._settings.get(PROXY_URL) or None
        headers = tuple(sorted(profile.headers.items()))
        cache_key = (profile.id, profile.base_url, headers, key, proxy, timeouts)
        client = self._clients.get(cache_key)
        if client is None:
            endpoint = Endpoint(profile.base_url, key, dict(profile.headers), proxy=proxy, timeouts=timeouts)
            client = ChatClient(endpoint, retry=RetryPolicy(max_attempts=self._settings.get(RETRY_ATTEMPTS)))
            self._clients[cache_key] = client
        return client

    # ---- the task ----------------------------------------------------------------------------------

    def _history(
        self, conversation: Conversation, parent_id: int | None
    ) -> tuple[list[Message], dict[int, list[ToolExecution]]]:
        """The branch up to `parent_id` (root first), and the tool runs of its answers."""
        if parent_id is None:
            return [], {}
        ids, _ = self._repo.branch_ids(parent_id, limit=_HISTORY_LIMIT)
        path = self._repo.messages_by_id(ids).items
        response_ids = [m.response.id for m in path if m.response is not None]
        return path, self._repo.tool_executions_for(response_ids)

    async def _run(
        self, stream: _Stream, conversation: Conversation, target: Target, first_exchange: bool
    ) -> None:
        live = stream.live
        status = ResponseStatus.DONE
        error: str | None = None
        try:
            parent_id = self._repo.get_message(live.message_id).parent_id
            path, executions = self._history(conversation, parent_id)
            system = conversation.system_prompt
            if system is None:
                system = self._settings.get(SYSTEM_PROMPT)
            base = to_api_messages(path, executions, system_prompt=system)
            params = {k: v for k, v in conversation.params.items() if v is not None and k not in APP_PARAMS}
            max_rounds = max(0, self._settings.get(MAX_TOOL_ROUNDS))
            chosen = tools_choice(conversation.params)
            if chosen != []:
                await self._tools.refresh()  # MCP servers start here, on the first answer that may use them
            offered = [] if chosen == [] else self._tools.api_tools(chosen)
            while True:
                request = ChatRequest(
                    target.model,
                    [*base, *self._answer_so_far(live)],
                    (offered if live.round < max_rounds else None) or None,
                    params,
                )
                await self._stream_round(stream, request)
                calls = live.close_round() if live.round_calls() else []
                if not calls:
                    break
                if live.round > max_rounds:
                    error = f"Stopped after {max_rounds} rounds of tool calls (see Settings)."
                    for call in calls:
                        live.set_tool_status(call.id, ToolStatus.CANCELLED)
                    break
                await self._run_tools(stream, calls)
        except asyncio.CancelledError:
            status = stream.final_status
            error = STOPPED if status is ResponseStatus.CANCELLED else QUIT
        except LLMError as exc:
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
        ):
            self._start_title(conversation.id, stream.client, target.model)

    def _answer_so_far(self, live: LiveResponse) -> list[dict[str, Any]]:
        """The answer's earlier rounds (or the text to continue), as assistant and tool messages."""
        if not live.text_length and not live.tool_calls:
            return []
        executions = self._repo.tool_executions_for([live.response_id]).get(live.response_id, [])
        return answer_messages(live.snapshot(), executions)

    async def _stream_round(self, stream: _Stream, request: ChatRequest) -> None:
        live = stream.live
        live.finish_reason = None
        schedule = self._schedule_flush
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

    async def _run_tools(self, stream: _Stream, calls: list[ToolCall]) -> None:
        live = stream.live
        timeout = self._settings.get(TOOL_TIMEOUT)
        executions = [
            self._repo.add_tool_execution(live.response_id, c.id, c.name, c.arguments, round_no=c.round)
            for c in calls
        ]
        self.flush()
        for call, execution in zip(calls, executions, strict=True):
            self._tool_moved(live, execution.id, call, ToolStatus.QUEUED)
        for call, execution in zip(calls, executions, strict=True):
            try:
                allowed = await self._approved(live, execution.id, call)
                if not allowed:
                    self._repo.update_tool_execution(execution.id, ToolStatus.CANCELLED, error=DECLINED)
                    self._tool_moved(live, execution.id, call, ToolStatus.CANCELLED)
                    continue
                self._repo.update_tool_execution(execution.id, ToolStatus.RUNNING)
                self._tool_moved(live, execution.id, call, ToolStatus.RUNNING)
                task = asyncio.ensure_future(self._tools.run(call.name, call.arguments, timeout=timeout))
                self._tool_tasks[execution.id] = task
                try:
                    await asyncio.wait({task})  # the call alone may be cancelled (cancel_tool)
                finally:
                    self._tool_tasks.pop(execution.id, None)
                    if not task.done():  # the answer itself was stopped
                        task.cancel()
                        await asyncio.gather(task, return_exceptions=True)
            except asyncio.CancelledError:
                self._repo.update_tool_execution(
                    execution.id, ToolStatus.CANCELLED, error="Stopped by the user."
                )
                self._tool_moved(live, execution.id, call, ToolStatus.CANCELLED)
                for later_call, later in zip(calls, executions, strict=True):
                    if live.tool_status.get(later_call.id) is ToolStatus.QUEUED:
                        self._repo.update_tool_execution(later.id, ToolStatus.CANCELLED, error="Not run.")
                        self._tool_moved(live, later.id, later_call, ToolStatus.CANCELLED)
                raise
            if task.cancelled():
                self._repo.update_tool_execution(execution.id, ToolStatus.CANCELLED, error=CANCELLED_BY_USER)
                self._tool_moved(live, execution.id, call, ToolStatus.CANCELLED)
                continue
            result = task.result()
            if result.is_error:
                self._repo.update_tool_execution(execution.id, ToolStatus.FAILED, error=result.text)
                self._tool_moved(live, execution.id, call, ToolStatus.FAILED)
            else:
                self._repo.update_tool_execution(execution.id, ToolStatus.SUCCEEDED, result=result.text)
                self._tool_moved(live, execution.id, call, ToolStatus.SUCCEEDED)

    async def _approved(self, live: LiveResponse, execution_id: int, call: ToolCall) -> bool:
        """Whether the call may run: asks the person when the tool wants it (waits for the answer)."""
        tool = self._tools.get(call.name)
        if tool is None or not tool.spec.needs_approval:
            return True
        if self.approval_mode != "ask":
            return self.approval_mode == "all"
        always: list[str] = self._settings.get(ALWAYS_ALLOWED_TOOLS)
        if call.name in always:
            return True
        if call.name in self._allowed_in(live.conversation_id):
            return True
        request = ApprovalRequest(
            live.conversation_id, live.response_id, execution_id, call.id, call.name, call.arguments
        )
        future: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()
        self._approvals[execution_id] = (request, future)
        self.approval_requested.emit(request)
        try:
            decision = await future
        except asyncio.CancelledError:  # the answer was stopped while the question was open
            self.approval_resolved.emit(ApprovalResolved(execution_id, ApprovalDecision.CANCELLED))
            raise
        finally:
            self._approvals.pop(execution_id, None)
        self.approval_resolved.emit(ApprovalResolved(execution_id, decision))
        if decision is ApprovalDecision.ALWAYS:
            saved: list[str] = self._settings.get(ALWAYS_ALLOWED_TOOLS)
            if call.name not in saved:
                self._settings.set(ALWAYS_ALLOWED_TOOLS, [*saved, call.name])
        elif decision is ApprovalDecision.CONVERSATION:
            self._allow_in(live.conversation_id, call.name)
        return decision.allows

    def _allowed_in(self, conversation_id: int) -> set[str]:
        if conversation_id not in self._allowed_here:
            try:
                params: dict[str, object] = dict(self._conversations.get(conversation_id).params)
            except LookupError:
                params = {}
            saved = params.get("allowed_tools")
            self._allowed_here[conversation_id] = set(saved) if isinstance(saved, list) else set()
        return self._allowed_here[conversation_id]

    def _allow_in(self, conversation_id: int, name: str) -> None:
        allowed = self._allowed_in(conversation_id)
        allowed.add(name)
        self._conversations.set_params(conversation_id, allowed_tools=sorted(allowed))

    def pending_approvals(self, conversation_id: int | None = None) -> list[ApprovalRequest]:
        """Calls waiting for the person (of one conversation, or all)."""
        return [
            r
            for r, _ in self._approvals.values()
            if conversation_id is None or r.conversation_id == conversation_id
        ]

    def approve(self, execution_id: int, decision: ApprovalDecision) -> bool:
        """Answer a waiting call (once, this conversation, always, or deny). False if nothing waits."""
        decision = ApprovalDecision(decision)  # a plain "once" from a script works too
        if decision is ApprovalDecision.CANCELLED:
            raise ValueError("cancelled is what a stopped answer records, not a decision to make")
        waiting = self._approvals.get(execution_id)
        if waiting is None or waiting[1].done():
            return False
        waiting[1].set_result(decision)
        return True

    def cancel_tool(self, execution_id: int) -> bool:
        """Cancel one running call (the answer goes on; the model is told). False if it is not running."""
        task = self._tool_tasks.get(execution_id)
        if task is None or task.done():
            waiting = self._approvals.get(execution_id)
            if waiting is not None and not waiting[1].done():
                waiting[1].set_result(ApprovalDecision.DENY)
                return True
            return False
        task.cancel()
        return True

    def _tool_moved(self, live: LiveResponse, execution_id: int, call: ToolCall, status: ToolStatus) -> None:
        live.set_tool_status(call.id, status)
        self.flush()
        self.tool_status_changed.emit(
            ToolUpdate(live.conversation_id, live.response_id, execution_id, call.id, call.name, status)
        )

    # ---- committing --------------------------------------------------------------------------------

    def _schedule_flush(self) -> None:
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Commit every queued patch in one transaction, then announce what changed."""
        self._flush_timer.stop()
        changed = [live for live in self._live.values() if live.dirty]
        patches = [*self._failed, *(p for live in changed if (p := live.take_patch()) is not None)]
        if patches:
            started = time.perf_counter()
            try:
                self._repo.apply_patches(patches)
            except Exception:
                log.exception("Could not save %d streamed patch(es); trying again", len(patches))
                self._failed = patches
                self._schedule_flush()
                return
            self._failed = []
            self.commit_times_ms.append((time.perf_counter() - started) * 1000)
        for live in changed:
            self.response_patched.emit(self._update(live))

    def _update(self, live: LiveResponse) -> ResponseUpdate:
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
        """A task cancelled before it first ran never reached its `finally`: end its answer here."""
        if not stream.done.is_set():
            status = stream.final_status
            self._finish(stream, status, STOPPED if status is ResponseStatus.CANCELLED else QUIT)

    def _finish(self, stream: _Stream, status: ResponseStatus, error: str | None) -> None:
        """End an answer: one transaction commits what is queued and compacts the document."""
        live = stream.live
        conversation_id = live.conversation_id
        for call_id, tool_status in list(live.tool_status.items()):
            if tool_status in (ToolStatus.QUEUED, ToolStatus.RUNNING):
                live.set_tool_status(call_id, ToolStatus.CANCELLED)
        try:
            for execution in self._repo.list_tool_executions(live.response_id).items:
                if execution.status in (ToolStatus.QUEUED, ToolStatus.RUNNING):
                    self._repo.update_tool_execution(
                        execution.id, ToolStatus.CANCELLED, error="Not finished."
                    )
        except Exception:
            log.exception("Could not mark the tools of answer %d as cancelled", live.response_id)
        if live.round_calls():  # a round cut off while its calls were arriving: keep what came
            live.close_round()
        live.status, live.error = status, error
        pending = [*self._failed, *([p] if (p := live.take_patch()) is not None else [])]
        self._failed = []
        try:
            self._repo.finish_response(
                live.response_id,
                status,
                finish_reason=live.finish_reason,
                usage=live.usage,
                error=error,
                tool_calls=live.tool_calls,
                tool_status=live.tool_status,
                pending=pending,
            )
        except Exception:
            log.exception("Could not save the end of answer %d", live.response_id)
        self._live.pop(live.response_id, None)
        self._streams.pop(conversation_id, None)
        stream.done.set()
        self.response_patched.emit(self._update(live))
        self.stream_finished.emit(StreamEnded(conversation_id, live.response_id, status))
        self._conversations.notify_changed(conversation_id)

    # ---- titles --------------------------------------------------------------------------------------

    def _start_title(self, conversation_id: int, client: ChatClient, model: str) -> None:
        task = asyncio.ensure_future(self._title(conversation_id, client, model))
        self._title_tasks.add(task)
        task.add_done_callback(self._title_tasks.discard)

    async def _title(self, conversation_id: int, client: ChatClient, model: str) -> None:
        """Ask the model for a short title of the first exchange; keep the first-words title on failure."""
        try:
            conversation = self._repo.get_conversation(conversation_id)
            path, _ = self._history(conversation, conversation.active_leaf_id)
            exchange = [m for m in path if m.role in (Role.USER, Role.ASSISTANT)][:2]
            if len(exchange) < 2:
                return
            excerpt = "\n\n".join(f"{m.role.value}: {m.text[:1500]}" for m in exchange)
            request = ChatRequest(
                model,
                [
                    {
                        "role": "user",
                        "content": f"{TITLE_PROMPT}\n\n{excerpt}",
                    }
                ],
                params={"max_tokens": 24, "temperature": 0.2},
            )
            title = clean_model_title(await asyncio.wait_for(client.complete(request), 30))
        except (LLMError, TimeoutError, NotFoundError) as exc:
            log.info("No model title for conversation %d: %s", conversation_id, exc)
            return
        if title and self._repo.get_conversation(conversation_id).title == heuristic_title(exchange[0].text):
            self._conversations.rename(conversation_id, title)
