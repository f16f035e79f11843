"""The answer's text and reasoning as deltas: a leading `<think>` block becomes reasoning, and a UTF-16
surrogate pair split between two chunks is rejoined (a lone surrogate at the end becomes U+FFFD)."""

from __future__ import annotations

from typing import Final

from desktop_chat.llm.events import ReasoningDelta, StreamEvent, TextDelta

# Opening tag -> closing tag of a reasoning block at the start of the answer text.
_THINK_TAGS: Final = {"<think>": "</think>", "<thinking>": "</thinking>"}
_THINK_OPENERS: Final = tuple(_THINK_TAGS)

# Where the answer text is with respect to a leading <think> block.
_PENDING: Final = 0  # no answer text yet: a <think> may still open
_INSIDE: Final = 1  # inside <think>: content is reasoning until the closing tag
_AFTER: Final = 2  # just after </think>: leading whitespace is dropped
_OFF: Final = 3  # ordinary text from here on


class AnswerText:
    """Text and reasoning pieces of one message -> `TextDelta` / `ReasoningDelta` events."""

    __slots__ = ("_close_tag", "_held", "_hi_reasoning", "_hi_text", "_think")

    def __init__(self) -> None:
        self._think = _PENDING
        self._close_tag = ""
        self._held = ""  # text held back: leading whitespace or a partial <think>/</think> tag
        self._hi_text = ""  # a high surrogate that ended the last text delta
        self._hi_reasoning = ""

    def text(self, text: str, out: list[StreamEvent]) -> None:
        """A piece of answer text (it may open, fill or close a leading <think> block)."""
        if self._think == _OFF:
            self._emit_text(text, out)
        else:
            self._think_text(text, out)

    def finish(self, out: list[StreamEvent]) -> None:
        """At the end of the stream: what is still held back."""
        held, self._held = self._held, ""
        if held:
            if self._think == _INSIDE:
                self.reasoning(held, out)
            elif self._think != _AFTER or held.strip():
                self._think = _OFF
                self._emit_text(held, out)
        if self._hi_text:
            self._hi_text = ""
            out.append(TextDelta("\ufffd"))
        if self._hi_reasoning:
            self._hi_reasoning = ""
            out.append(ReasoningDelta("\ufffd"))

    def _think_text(self, text: str, out: list[StreamEvent]) -> None:
        """Content while a leading <think> block may open, is open, or just closed."""
        state = self._think
        if state == _PENDING:
            buf = self._held + text
            start = buf.lstrip()
            if not start:
                self._held = buf  # only whitespace so far: wait for the first real character
                return
            for opener in _THINK_OPENERS:
                if start.startswith(opener):
                    self._held = ""
                    self._think = _INSIDE
                    self._close_tag = _THINK_TAGS[opener]
                    rest = start[len(opener) :]
                    if rest:
                        self._think_text(rest, out)
                    return
                if opener.startswith(start):  # a tag still arriving: `<thi` + `nk>`
                    self._held = buf
                    return
            self._held = ""
            self._think = _OFF
            self._emit_text(buf, out)
        elif state == _INSIDE:
            buf = self._held + text
            self._held = ""
            close = self._close_tag
            end = buf.find(close)
            if end >= 0:
                if end:
                    self.reasoning(buf[:end], out)
                self._think = _AFTER
                rest = buf[end + len(close) :]
                if rest:
                    self._think_text(rest, out)
                return
            cut = buf.rfind("<", max(0, len(buf) - len(close) + 1))
            if cut >= 0 and close.startswith(buf[cut:]):
                self._held = buf[cut:]
                buf = buf[:cut]
            if buf:
                self.reasoning(buf, out)
        else:  # _AFTER: the answer starts at the first non-whitespace character
            answer = text.lstrip()
            if answer:
                self._think = _OFF
                self._emit_text(answer, out)

    def _emit_text(self, text: str, out: list[StreamEvent]) -> None:
        held = self._hi_text
        self._hi_text = ""
        if "\ud800" <= text[-1] <= "\udbff":  # half of a surrogate pair: wait for the other half
            self._hi_text = text[-1]
            text = text[:-1]
        if held:
            text = _pair(held, text)
        if text:
            out.append(TextDelta(text))

    def reasoning(self, text: str, out: list[StreamEvent]) -> None:
        """A piece of reasoning."""
        # _emit_text's steps for the other kind of delta, on purpose: one helper shared by both (an
        # object per kind) measured ~0.1 µs slower per text chunk, the hottest path of a stream.
        held = self._hi_reasoning
        self._hi_reasoning = ""
        if "\ud800" <= text[-1] <= "\udbff":
            self._hi_reasoning = text[-1]
            text = text[:-1]
        if held:
            text = _pair(held, text)
        if text:
            out.append(ReasoningDelta(text))


def _pair(high: str, text: str) -> str:
    """A held high surrogate joined with the low one that starts `text` (U+FFFD if there is none)."""
    if text and "\udc00" <= text[0] <= "\udfff":
        return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(text[0]) - 0xDC00)) + text[1:]
    return "\ufffd" + text
