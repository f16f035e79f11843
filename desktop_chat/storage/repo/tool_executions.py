"""Tool executions (one run of a tool for a call in an answer): reads, then writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from desktop_chat.domain import Page, ToolExecution, ToolStatus
from desktop_chat.storage.repo import rows
from desktop_chat.storage.repo.base import RepoBase, now


class ToolExecutionQueries(RepoBase):
    """The tool_execution table."""

    # ---- reads ----------------------------------------------------------------------------------

    def get_tool_execution(self, execution_id: int) -> ToolExecution:
        """One tool execution by id."""
        return self._one(self.m.ToolExecution, execution_id, "tool execution", rows.tool_execution)

    def tool_executions_for(self, response_ids: Sequence[int]) -> dict[int, list[ToolExecution]]:
        """The tool executions of several responses, by response id, in order."""
        if not response_ids:
            return {}
        T_ = self.m.ToolExecution
        found = T_.select().where(T_.response.in_(list(response_ids))).order_by(T_.id).dicts()
        out: dict[int, list[ToolExecution]] = {}
        for execution in self._convert(found, "tool_execution", rows.tool_execution).items:
            out.setdefault(execution.response_id, []).append(execution)
        return out

    def list_tool_executions(self, response_id: int) -> Page[ToolExecution]:
        """The tool executions of one response, in order."""
        T_ = self.m.ToolExecution
        found = T_.select().where(T_.response == response_id).order_by(T_.id).dicts()
        return self._convert(found, "tool_execution", rows.tool_execution)

    # ---- writes ---------------------------------------------------------------------------------

    def add_tool_execution(
        self, response_id: int, call_id: str, name: str, arguments: str, *, round_no: int = 0
    ) -> ToolExecution:
        """Writes: a tool call the model asked for, recorded as queued."""
        tid = self.m.ToolExecution.insert(
            response=response_id,
            call_id=call_id,
            name=name,
            arguments=arguments,
            status=ToolStatus.QUEUED.value,
            round=round_no,
            created_at=now(),
        ).execute()
        return self.get_tool_execution(int(tid))

    def update_tool_execution(
        self, execution_id: int, status: ToolStatus, *, result: str | None = None, error: str | None = None
    ) -> ToolExecution:
        """Writes: move a tool execution along; running sets started_at, a final status sets
        finished_at."""
        fields: dict[str, Any] = {"status": status.value}
        at = now()
        if status is ToolStatus.RUNNING:
            fields["started_at"] = at
        elif status is not ToolStatus.QUEUED:
            fields["finished_at"] = at
        if result is not None:
            fields["result"] = result
        if error is not None:
            fields["error"] = error
        self.m.ToolExecution.update(**fields).where(self.m.ToolExecution.id == execution_id).execute()
        return self.get_tool_execution(execution_id)
