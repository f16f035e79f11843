"""Peewee models of the current schema, built per database (no module-level binding).

Migrations own the DDL; these classes only describe the latest tables for queries. A test checks
that every field here exists in the migrated schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee


@dataclass(frozen=True, slots=True)
class Models:
    """The model classes bound to one database."""

    ProviderProfile: Any
    Conversation: Any
    Message: Any
    Response: Any
    ResponseChunk: Any
    ToolExecution: Any

    def all(self) -> list[Any]:
        """Every model, in dependency order."""
        return [
            self.ProviderProfile,
            self.Conversation,
            self.Message,
            self.Response,
            self.ResponseChunk,
            self.ToolExecution,
        ]


def make_models(db: peewee.SqliteDatabase) -> Models:
    """Model classes bound to `db`, so two stores can be open in one process."""

    class Base(peewee.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class ProviderProfile(Base):
        key_ref = peewee.TextField(unique=True)
        name = peewee.TextField(unique=True)
        base_url = peewee.TextField()
        default_model = peewee.TextField(default="")
        headers = peewee.TextField(default="{}")
        needs_key = peewee.BooleanField(default=True)
        created_at = peewee.FloatField()
        updated_at = peewee.FloatField()

    class Conversation(Base):
        uuid = peewee.TextField(unique=True)
        title = peewee.TextField(default="")
        created_at = peewee.FloatField()
        updated_at = peewee.FloatField()
        pinned = peewee.BooleanField(default=False)
        archived = peewee.BooleanField(default=False)
        profile = peewee.ForeignKeyField(
            ProviderProfile, null=True, on_delete="SET NULL", column_name="profile_id"
        )
        model = peewee.TextField(default="")
        system_prompt = peewee.TextField(null=True)
        params = peewee.TextField(default="{}")
        active_leaf_id = peewee.IntegerField(null=True)

    class Message(Base):
        uuid = peewee.TextField(unique=True)
        conversation = peewee.ForeignKeyField(
            Conversation, on_delete="CASCADE", column_name="conversation_id"
        )
        parent = peewee.ForeignKeyField("self", null=True, on_delete="CASCADE", column_name="parent_id")
        role = peewee.TextField()
        content = peewee.TextField(default="")
        created_at = peewee.FloatField()

    class Response(Base):
        message = peewee.ForeignKeyField(Message, unique=True, on_delete="CASCADE", column_name="message_id")
        status = peewee.TextField()
        text = peewee.TextField(default="")
        reasoning = peewee.TextField(default="")
        tool_calls = peewee.TextField(default="[]")
        tool_status = peewee.TextField(default="{}")
        finish_reason = peewee.TextField(null=True)
        usage = peewee.TextField(null=True)
        model = peewee.TextField(default="")
        provider = peewee.TextField(default="")
        error = peewee.TextField(null=True)
        created_at = peewee.FloatField()
        updated_at = peewee.FloatField()
        finished_at = peewee.FloatField(null=True)

    class ResponseChunk(Base):
        response = peewee.ForeignKeyField(Response, on_delete="CASCADE", column_name="response_id")
        field = peewee.TextField()
        data = peewee.TextField()

    class ToolExecution(Base):
        response = peewee.ForeignKeyField(Response, on_delete="CASCADE", column_name="response_id")
        call_id = peewee.TextField()
        name = peewee.TextField()
        arguments = peewee.TextField(default="")
        status = peewee.TextField()
        result = peewee.TextField(null=True)
        error = peewee.TextField(null=True)
        round = peewee.IntegerField(default=0)
        created_at = peewee.FloatField()
        started_at = peewee.FloatField(null=True)
        finished_at = peewee.FloatField(null=True)

    return Models(ProviderProfile, Conversation, Message, Response, ResponseChunk, ToolExecution)
