"""Provider profiles: reads, then writes."""

from __future__ import annotations

import json
from typing import Any

from desktop_chat.domain import Page, ProviderProfile
from desktop_chat.storage.repo import rows
from desktop_chat.storage.repo.base import RepoBase, new_uuid, now


class ProfileQueries(RepoBase):
    """The provider_profile table."""

    # ---- reads ----------------------------------------------------------------------------------

    def get_profile(self, profile_id: int) -> ProviderProfile:
        """One profile by id."""
        return self._one(self.m.ProviderProfile, profile_id, "provider profile", rows.profile)

    def list_profiles(self) -> Page[ProviderProfile]:
        """Every profile, by name."""
        found = self.m.ProviderProfile.select().order_by(self.m.ProviderProfile.name).dicts()
        return self._convert(found, "provider_profile", rows.profile)

    # ---- writes ---------------------------------------------------------------------------------

    def add_profile(
        self,
        name: str,
        base_url: str,
        default_model: str = "",
        headers: dict[str, str] | None = None,
        *,
        needs_key: bool = True,
    ) -> ProviderProfile:
        """Writes: a new provider profile (its key, if any, goes to the keychain under `key_ref`)."""
        at = now()
        pid = self.m.ProviderProfile.insert(
            key_ref=new_uuid(),
            name=name,
            base_url=base_url,
            default_model=default_model,
            headers=json.dumps(headers or {}),
            needs_key=needs_key,
            created_at=at,
            updated_at=at,
        ).execute()
        return self.get_profile(int(pid))

    def update_profile(self, profile_id: int, **fields: Any) -> ProviderProfile:
        """Writes: change name, base_url, default_model, headers or needs_key."""
        allowed = {"name", "base_url", "default_model", "headers", "needs_key"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown profile fields: {sorted(unknown)}")
        if "headers" in fields:
            fields["headers"] = json.dumps(fields["headers"] or {})
        fields["updated_at"] = now()
        self.m.ProviderProfile.update(**fields).where(self.m.ProviderProfile.id == profile_id).execute()
        return self.get_profile(profile_id)

    def delete_profile(self, profile_id: int) -> str:
        """Writes: delete a profile; returns its key_ref so the caller can drop the key from the
        keychain."""
        profile = self.get_profile(profile_id)
        self.m.ProviderProfile.delete().where(self.m.ProviderProfile.id == profile_id).execute()
        return profile.key_ref
