"""A run of markdown between tool calls, rendered block by block, with the geometry of its blocks.

A `Segment` keeps the rendered final blocks of its text and their offsets; an update renders only blocks
that became final since the last one and the open tail, and a paint asks only for the blocks inside the
clip, so the cost of a streaming update does not grow with the answer.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from desktop_chat.ui.transcript.documents import BlockDocs, RenderedBlock
from desktop_chat.ui.transcript.markdown import Block, BlockSplitter
from desktop_chat.ui.transcript.style import GAP, TranscriptStyle


class Segment:
    """A run of markdown between tool calls, rendered block by block; final blocks are kept."""

    def __init__(self, *, muted: bool = False) -> None:
        self.muted = muted
        self.splitter = BlockSplitter()
        self.final: list[RenderedBlock] = []
        self.tops: list[int] = []  # top of each final block, from the segment's top
        self.final_height = 0  # final blocks and the gaps after them
        self.final_cost = 0  # the estimated memory of the final blocks' documents
        self.tail: list[RenderedBlock] = []
        self.height = 0
        self._generation = -1
        self._form: tuple[object, ...] = ()

    def update(self, text: str, width: int, style: TranscriptStyle, docs: BlockDocs) -> None:
        """Bring the rendered blocks up to `text` (rendering only what became final, and the tail)."""
        form = (width, style.key)
        self.splitter.update(text)
        if form != self._form or self.splitter.generation != self._generation:
            self._form, self._generation = form, self.splitter.generation
            self.final, self.tops, self.final_height, self.final_cost, self.tail = [], [], 0, 0, []
        previous_tail = {rb.block.source: rb for rb in self.tail}
        for block in self.splitter.final[len(self.final) :]:
            reused = previous_tail.get(block.source)  # the tail block, now final, was rendered as it is
            rendered = docs.get(block, width, style, muted=self.muted, rendered=reused)
            self.tops.append(self.final_height)
            self.final.append(rendered)
            self.final_height += rendered.height + GAP
            self.final_cost += rendered.cost
        self.tail = [
            self._tail_block(b, previous_tail.get(b.source), width, style, docs) for b in self.splitter.tail
        ]
        tail_height = sum(rb.height + GAP for rb in self.tail)
        self.height = max(0, self.final_height + tail_height - GAP)

    def _tail_block(
        self, block: Block, before: RenderedBlock | None, width: int, style: TranscriptStyle, docs: BlockDocs
    ) -> RenderedBlock:
        if before is not None and before.plain:  # unchanged since the last update: the stream paused or
            return docs.get(block, width, style, muted=self.muted)  # ended, so highlight it now
        if before is not None:
            return before
        cached = docs.cached(block, width, style, muted=self.muted)
        return cached or docs.render(block, width, style, muted=self.muted, tail=True)

    @property
    def cost(self) -> int:
        """The estimated memory of the documents this segment keeps alive."""
        return self.final_cost + sum(rb.cost for rb in self.tail)

    def visible(self, top: int, bottom: int) -> Iterator[tuple[int, RenderedBlock]]:
        """(y, block) for the blocks that overlap [top, bottom) (segment coordinates)."""
        start = max(0, bisect.bisect_right(self.tops, top) - 1)
        for i in range(start, len(self.final)):
            y = self.tops[i]
            if y >= bottom:
                return
            if y + self.final[i].height > top:
                yield y, self.final[i]
        y = self.final_height
        for rb in self.tail:
            if y >= bottom:
                return
            if y + rb.height > top:
                yield y, rb
            y += rb.height + GAP

    def block_at(self, y: int) -> tuple[int, RenderedBlock] | None:
        """The block under `y` (segment coordinates), with its top."""
        for top, rb in self.visible(y, y + 1):
            if top <= y < top + rb.height:
                return top, rb
        return None
