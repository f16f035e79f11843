"""The Providers page of Settings, driven as a person would: add, edit, delete, keys, test, list models."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop_chat.domain import ProviderProfile
from desktop_chat.secrets import SecretStore
from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import DEFAULT_MODEL, DEFAULT_PROFILE
from desktop_chat.ui.settings.dialog import SettingsDialog
from desktop_chat.ui.settings.providers import ProvidersPage
from tests.helpers.llm_server import LLMServer, http_error
from tests.helpers.loop import run, until
from tests.helpers.settings_ui import click_box_button, files_containing, message_box, retype

if TYPE_CHECKING:
    from tests.helpers.qt_fixtures import Show


OTHER_ENDPOINT = "Other OpenAI-compatible endpoint…"


def _dialog(shown: Show, services: AppServices) -> SettingsDialog:
    return shown(SettingsDialog(services))


def _new_endpoint(qtbot, page: ProvidersPage, url: str, name: str = "") -> None:
    """A new "Other OpenAI-compatible endpoint…" on the page, its name and URL typed."""
    _add(page, OTHER_ENDPOINT)
    if name:
        qtbot.keyClicks(page.name_edit, name)
    qtbot.keyClicks(page.url_edit, url)


def _add(page: ProvidersPage, label: str) -> None:
    action = next(a for a in page.add_menu.actions() if a.text() == label)
    action.trigger()


def _saved(services: AppServices, profile_id: int) -> ProviderProfile:
    profile = services.providers.get(profile_id)
    assert profile is not None
    return profile


def _canary() -> str:
    return f"sk-canary-{uuid.uuid4().hex}"


@pytest.mark.keyring
def test_a_key_typed_for_a_new_provider_goes_to_the_keychain_and_nowhere_else(
    qtbot, shown, keyring_services: AppServices, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    services = keyring_services
    dialog = _dialog(shown, services)
    page = dialog.providers_page
    _add(page, "OpenAI")
    assert page.name_edit.text() == "OpenAI"
    assert page.url_edit.text() == "https://api.openai.com/v1"
    assert page.key_edit.echoMode() == page.key_edit.EchoMode.Password
    assert "platform.openai.com" in page.key_link.text()
    key = _canary()
    qtbot.keyClicks(page.key_edit, key)
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)

    (profile,) = services.providers.profiles()
    assert (profile.name, profile.base_url, profile.default_model) == (
        "OpenAI",
        "https://api.openai.com/v1",
        "gpt-4o-mini",
    )
    assert profile.needs_key
    assert SecretStore(backend=services.secrets._backend).get(profile.key_ref) == key
    assert page.key_edit.text() == ""  # never read back into the field
    assert page.key_status.text() == "•••• saved in the Secret Service keyring"
    assert page.remove_key_button.isVisible()
    assert page.profile_list.currentItem().text() == "OpenAI"
    # the first provider becomes the default for new conversations
    assert services.settings.get(DEFAULT_PROFILE) == profile.id
    assert services.settings.get(DEFAULT_MODEL) == "gpt-4o-mini"

    services.store.db.execute_sql("PRAGMA wal_checkpoint(FULL)")
    assert files_containing(tmp_path, key) == []  # database, WAL, settings file
    assert key not in caplog.text


@pytest.mark.keyring
def test_removing_a_key_asks_first_and_then_deletes_it_from_the_keychain(
    qtbot, shown, keyring_services: AppServices
) -> None:
    services = keyring_services
    profile = services.providers.add("Groq", "https://api.groq.com/openai/v1", default_model="llama")
    services.providers.set_key(profile.id, _canary())
    dialog = _dialog(shown, services)
    page = dialog.providers_page
    assert page.current_profile_id() == profile.id
    assert "saved in" in page.key_status.text()

    qtbot.mouseClick(page.remove_key_button, Qt.MouseButton.LeftButton)
    click_box_button(message_box(page, "removeKeyBox"), QMessageBox.StandardButton.Cancel)
    assert services.providers.has_key(profile.id)

    qtbot.mouseClick(page.remove_key_button, Qt.MouseButton.LeftButton)
    click_box_button(message_box(page, "removeKeyBox"), "confirmRemoveKeyButton")
    assert not services.providers.has_key(profile.id)
    assert page.key_status.text().startswith("No key saved. This provider needs one")
    assert not page.remove_key_button.isVisible()
    assert _saved(services, profile.id).needs_key  # Groq still asks for a key when chatting


@pytest.mark.keyring
def test_deleting_a_provider_asks_and_removes_its_key_and_default(
    qtbot, shown, keyring_services: AppServices
) -> None:
    services = keyring_services
    keep = services.providers.add("Local", "http://127.0.0.1:9/v1", default_model="m", needs_key=False)
    doomed = services.providers.add("Mistral", "https://api.mistral.ai/v1", default_model="small")
    services.providers.set_key(doomed.id, _canary())
    services.providers.use(doomed, "small")
    dialog = _dialog(shown, services)
    page = dialog.providers_page
    page.profile_list.setCurrentRow(page._row_of(doomed.id))
    assert page.current_profile_id() == doomed.id

    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    click_box_button(message_box(page, "deleteProfileBox"), QMessageBox.StandardButton.Cancel)
    assert services.providers.get(doomed.id) is not None

    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    box = message_box(page, "deleteProfileBox")
    assert "Mistral" in box.text()
    click_box_button(box, "confirmDeleteButton")
    assert [p.name for p in services.providers.profiles()] == ["Local"]
    assert SecretStore(backend=services.secrets._backend).get(doomed.key_ref) is None
    assert services.settings.get(DEFAULT_PROFILE) == keep.id  # the default moved to what is left
    assert page.profile_list.count() == 1
    assert page.current_profile_id() == keep.id


def test_editing_a_provider_saves_name_url_model_and_headers(
    qtbot, shown, no_keychain_services: AppServices
) -> None:
    services = no_keychain_services
    profile = services.providers.add("Box", "http://127.0.0.1:9/v1", default_model="a", needs_key=False)
    dialog = _dialog(shown, services)
    page = dialog.providers_page
    assert not page.save_button.isEnabled()  # nothing changed yet
    retype(qtbot, page.name_edit, "Workstation")
    retype(qtbot, page.url_edit, "192.168.1.20:8080/v1/")
    page.model_box.setFocus()
    page.model_line.selectAll()
    qtbot.keyClicks(page.model_line, "qwen2.5:7b")
    page.headers_edit.setFocus()
    qtbot.keyClicks(page.headers_edit, "X-Team: blue")
    assert page.save_button.isEnabled()

    page.headers_edit.appendPlainText("not a header")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert page.form_error.text() == "Header line 2 is not “Name: value”."
    assert _saved(services, profile.id).name == "Box"  # nothing saved

    page.headers_edit.setPlainText("X-Team: blue")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    saved = services.providers.get(profile.id)
    assert saved is not None
    assert (saved.name, saved.base_url, saved.default_model, saved.headers) == (
        "Workstation",
        "http://192.168.1.20:8080/v1",
        "qwen2.5:7b",
        {"X-Team": "blue"},
    )
    assert not page.has_unsaved_changes()
    assert page.profile_list.currentItem().text() == "Workstation"


def test_a_bad_base_url_is_refused_with_a_message(qtbot, shown, no_keychain_services: AppServices) -> None:
    dialog = _dialog(shown, no_keychain_services)
    page = dialog.providers_page
    _new_endpoint(qtbot, page, "ftp://example.com", "Mine")
    qtbot.keyClick(page.url_edit, Qt.Key.Key_Return)
    assert "not an http:// or https:// address" in page.form_error.text()
    assert no_keychain_services.providers.profiles() == []


def test_leaving_a_changed_provider_asks_to_save_or_discard(
    qtbot, shown, no_keychain_services: AppServices
) -> None:
    services = no_keychain_services
    first = services.providers.add("First", "http://127.0.0.1:9/v1", default_model="m", needs_key=False)
    second = services.providers.add("Second", "http://127.0.0.1:10/v1", default_model="m", needs_key=False)
    dialog = _dialog(shown, services)
    page = dialog.providers_page
    page.profile_list.setCurrentRow(page._row_of(first.id))
    retype(qtbot, page.name_edit, "First renamed")

    page.profile_list.setCurrentRow(page._row_of(second.id))
    box = message_box(page, "unsavedChangesBox")
    assert page.current_profile_id() == first.id  # still on the changed one while asking
    click_box_button(box, QMessageBox.StandardButton.Cancel)
    assert page.current_profile_id() == first.id
    assert page.name_edit.text() == "First renamed"

    page.profile_list.setCurrentRow(page._row_of(second.id))
    click_box_button(message_box(page, "unsavedChangesBox"), QMessageBox.StandardButton.Save)
    assert _saved(services, first.id).name == "First renamed"
    assert page.current_profile_id() == second.id

    retype(qtbot, page.name_edit, "Second renamed")
    page.profile_list.setCurrentRow(page._row_of(first.id))
    click_box_button(message_box(page, "unsavedChangesBox"), QMessageBox.StandardButton.Discard)
    assert _saved(services, second.id).name == "Second"
    assert page.current_profile_id() == first.id


def test_without_a_keychain_the_page_says_why_and_local_servers_still_work(
    qtbot, shown, aloop, no_keychain_services: AppServices, llm_server: LLMServer
) -> None:
    services = no_keychain_services
    dialog = _dialog(shown, services)
    page = dialog.providers_page
    assert page.keychain_message.isVisible()
    assert page.keychain_message.text().startswith(
        "No keychain is available, so API keys cannot be saved or read."
    )
    _add(page, "Ollama (on this computer)")
    assert not page.key_edit.isEnabled()
    assert page.key_edit.placeholderText() == "No keychain: keys cannot be saved"
    retype(qtbot, page.url_edit, llm_server.url)
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    run(aloop, until(lambda: not page.busy() and page.result_label.text().startswith("✔")))
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    (profile,) = services.providers.profiles()
    assert (profile.name, profile.default_model, profile.needs_key) == ("Ollama", "test-model", False)


def test_test_connection_lists_the_models_without_blocking(
    qtbot, shown, aloop, no_keychain_services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.models = ["alpha", "beta", "gamma"]
    dialog = _dialog(shown, no_keychain_services)
    page = dialog.providers_page
    _new_endpoint(qtbot, page, llm_server.url, "Test server")
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    # The click returned at once; the request is made in the background.
    assert page.result_label.text() == "Testing the connection…"
    assert not page.test_button.isEnabled()
    run(aloop, until(lambda: not page.busy() and page.test_button.isEnabled()))
    assert page.result_label.text() == f"✔ Connected to 127.0.0.1:{llm_server.port}: 3 models."
    assert page.result_label.kind() == "ok"
    assert [page.model_box.itemText(i) for i in range(page.model_box.count())] == ["alpha", "beta", "gamma"]
    assert page.model_box.currentText() == "alpha"
    assert [r.path for r in llm_server.requests] == ["/v1/models"]


@pytest.mark.keyring
def test_a_refused_key_is_reported_next_to_the_button(
    qtbot, shown, aloop, keyring_services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.models = None  # no list: the test sends a one-token request to the typed model
    llm_server.enqueue([http_error(401, "Incorrect API key provided")])
    dialog = _dialog(shown, keyring_services)
    page = dialog.providers_page
    _new_endpoint(qtbot, page, llm_server.url)
    key = _canary()
    qtbot.keyClicks(page.key_edit, key)
    page.model_line.setText("gpt-x")
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    run(aloop, until(lambda: not page.busy() and page.test_button.isEnabled()))
    assert page.result_label.kind() == "error"
    assert "refused the API key (HTTP 401)" in page.result_label.text()
    assert key not in page.result_label.text()
    chat = llm_server.requests[-1]
    assert chat.headers["authorization"] == f"Bearer {key}"  # the typed, unsaved key was tried
    assert chat.body["max_tokens"] == 1


def test_list_models_fills_the_default_model_list(
    qtbot, shown, aloop, no_keychain_services: AppServices, llm_server: LLMServer
) -> None:
    services = no_keychain_services
    llm_server.models = ["llama3.1:8b", "qwen2.5:7b"]
    profile = services.providers.add("Here", llm_server.url, default_model="qwen2.5:7b", needs_key=False)
    dialog = _dialog(shown, services)
    page = dialog.providers_page
    assert page.current_profile_id() == profile.id
    qtbot.mouseClick(page.list_button, Qt.MouseButton.LeftButton)
    run(aloop, until(lambda: not page.busy() and page.list_button.isEnabled()))
    assert [page.model_box.itemText(i) for i in range(page.model_box.count())] == [
        "llama3.1:8b",
        "qwen2.5:7b",
    ]
    assert page.model_box.currentText() == "qwen2.5:7b"  # the chosen model stays chosen
    assert not page.has_unsaved_changes()
    assert page.result_label.text() == "✔ 2 models listed: open the Default model list to pick one."


def test_a_server_without_a_model_list_takes_a_typed_model_id(
    qtbot, shown, aloop, no_keychain_services: AppServices, llm_server: LLMServer
) -> None:
    services = no_keychain_services
    llm_server.models = None
    dialog = _dialog(shown, services)
    page = dialog.providers_page
    _new_endpoint(qtbot, page, llm_server.url, "Bare server")
    qtbot.mouseClick(page.list_button, Qt.MouseButton.LeftButton)
    run(aloop, until(lambda: not page.busy() and page.list_button.isEnabled()))
    assert page.result_label.kind() == "error"
    assert "has no model list. Type a model id" in page.result_label.text()
    assert page.model_box.count() == 0

    page.model_box.setFocus()
    qtbot.keyClicks(page.model_line, "my-local-model")
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    run(aloop, until(lambda: not page.busy() and page.test_button.isEnabled()))
    assert (
        page.result_label.text() == f"✔ Connected to 127.0.0.1:{llm_server.port}: “my-local-model” answered."
    )
    assert llm_server.requests[-1].body["model"] == "my-local-model"
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    (profile,) = services.providers.profiles()
    assert (profile.name, profile.default_model) == ("Bare server", "my-local-model")


def test_closing_with_unsaved_changes_asks_first(qtbot, shown, no_keychain_services: AppServices) -> None:
    services = no_keychain_services
    dialog = _dialog(shown, services)
    page = dialog.providers_page
    _add(page, "LM Studio (on this computer)")
    dialog.reject()  # Escape / Close
    assert dialog.isVisible()
    click_box_button(message_box(page, "unsavedChangesBox"), QMessageBox.StandardButton.Save)
    assert not dialog.isVisible()
    (profile,) = services.providers.profiles()
    assert (profile.name, profile.base_url) == ("LM Studio", "http://localhost:1234/v1")
