"""Tool call pieces -> `ToolCallDelta` events with our own call numbers, whatever the provider's dialect.

Providers number a message's calls by `index` (OpenAI), by `id` only (Gemini, old Ollama), by neither
(a continuation), or give every parallel call `index: 0` with its own id (Ollama); legacy
`function_call` is one call. Arguments come as text pieces, or as one JSON object (sent once, as text).
"""

from __future__ import annotations

import json
from typing import Any

from desktop_chat.llm.events import StreamEvent, ToolCallDelta


class _ToolCall:
    __slots__ = ("id", "id_sent", "name", "object_args_sent")

    def __init__(self, call_id: str | None) -> None:
        self.id = call_id
        self.id_sent = False
        self.name: str | None = None
        self.object_args_sent = False


class ToolCalls:
    """The tool calls of one message so far; `len()` is how many."""

    __slots__ = ("_by_id", "_by_index", "_calls", "_function_call")

    def __init__(self) -> None:
        self._calls: list[_ToolCall] = []
        self._by_index: dict[int, int] = {}  # provider's tool call index -> ours
        self._by_id: dict[str, int] = {}
        self._function_call: int | None = None  # our index of the legacy function_call

    def __len__(self) -> int:
        return len(self._calls)

    def piece(self, item: dict[str, Any], out: list[StreamEvent]) -> bool:
        """One item of `delta.tool_calls`; True if it added to a call."""
        call_id = item.get("id") or None
        if call_id is not None and type(call_id) is not str:
            call_id = str(call_id)
        function = item.get("function")
        if type(function) is not dict:
            function = item  # some servers flatten name/arguments into the item
        name = function.get("name") or None
        arguments = function.get("arguments")
        if call_id is None and name is None and (arguments is None or arguments == ""):
            return False  # nothing to add (e.g. Gemini's metadata-only `extra_content` piece)
        position = item.get("index")
        if type(position) is int:
            ours = self._by_index.get(position)
            if ours is None:
                ours = self._by_id.get(call_id, -1) if call_id is not None else -1
                if ours < 0:
                    ours = self._new_call(call_id)
                self._by_index[position] = ours
            elif call_id is not None and self._calls[ours].id not in (None, call_id):
                # Same index, another id: a new parallel call (Ollama sends index 0 for every call),
                # unless that id is a call we already know (an id re-announced at another position).
                known = self._by_id.get(call_id)
                ours = known if known is not None else self._new_call(call_id)
                self._by_index[position] = ours
        elif call_id is not None:  # no index (Gemini, old Ollama): the id says which call
            known = self._by_id.get(call_id)
            ours = known if known is not None else self._new_call(call_id)
        elif self._calls and not (
            type(name) is str and self._calls[-1].name not in (None, name)
        ):  # neither: a continuation of the last call, unless it names another function
            ours = len(self._calls) - 1
        else:
            ours = self._new_call(None)
        return self._emit(ours, call_id, name, arguments, out)

    def legacy_function_call(self, piece: dict[str, Any], out: list[StreamEvent]) -> bool:
        """The legacy `delta.function_call` (one call, named `call_<n>` here); True if it added to it."""
        ours = self._function_call
        if ours is None:
            ours = self._function_call = self._new_call(None)
            self._calls[ours].id = f"call_{ours}"
        return self._emit(ours, None, piece.get("name") or None, piece.get("arguments"), out)

    def _new_call(self, call_id: str | None) -> int:
        ours = len(self._calls)
        self._calls.append(_ToolCall(call_id))
        if call_id is not None:
            self._by_id[call_id] = ours
        return ours

    def _emit(
        self, ours: int, call_id: str | None, name: object, arguments: object, out: list[StreamEvent]
    ) -> bool:
        call = self._calls[ours]
        if call_id is not None and call.id is None:
            call.id = call_id
            self._by_id[call_id] = ours
        new_id = None
        if not call.id_sent and call.id is not None:
            new_id = call.id
            call.id_sent = True
        new_name = None
        if call.name is None and name and type(name) is str:
            new_name = call.name = name
        if type(arguments) is str:
            args = arguments
        elif arguments is None or call.object_args_sent:
            args = ""
        else:
            args = json.dumps(arguments, separators=(",", ":"), ensure_ascii=False)
            call.object_args_sent = True
        if new_id is not None or new_name is not None or args:
            out.append(ToolCallDelta(ours, new_id, new_name, args))
            return True
        return False
