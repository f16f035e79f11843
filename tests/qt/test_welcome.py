"""The first-run welcome: finds a local server, offers it with one click, takes a cloud key, or steps
aside."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFrame, QLabel

from desktop_chat.llm.providers import Preset
from desktop_chat.secrets import SecretStore
from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import DEFAULT_MODEL, DEFAULT_PROFILE
from desktop_chat.ui.welcome import WelcomeDialog
from tests.helpers.history import new_conversation
from tests.helpers.llm_server import LLMServer, http_error
from tests.helpers.loop import run, until
from tests.helpers.settings_ui import files_containing


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _local(name: str, url: str) -> Preset:
    return Preset(name, url, needs_key=False, local=True)


def _welcome(qtbot, services: AppServices, **options) -> WelcomeDialog:
    dialog = WelcomeDialog(services.providers, **options)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_local_server_is_found_and_one_click_sets_it_up(
    aloop, qtbot, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.models = ["llama3.1:8b", "qwen2.5:7b", "mistral:7b", "phi3:mini"]
    nobody = f"http://127.0.0.1:{_free_port()}/v1"
    dialog = _welcome(
        qtbot,
        services,
        local_presets=(_local("Ollama", llm_server.url), _local("LM Studio", nobody)),
        timeout=1.0,
    )
    assert dialog.local_status.text() == "Looking for Ollama, LM Studio on this computer…"
    run(aloop, until(lambda: not dialog.searching()))
    assert [s.preset.name for s in dialog.found] == ["Ollama"]
    assert len(dialog.use_buttons) == 1
    row = dialog.findChild(QFrame, "localServer_0")
    assert row is not None
    text = " ".join(label.text() for label in row.findChildren(QLabel))
    assert "<b>Ollama</b>" in text
    assert "4 models: llama3.1:8b, qwen2.5:7b, mistral:7b and 1 more" in text

    with qtbot.waitSignal(dialog.finished):
        qtbot.mouseClick(dialog.use_buttons[0], Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    (profile,) = services.providers.profiles()
    assert (profile.name, profile.base_url, profile.default_model, profile.needs_key) == (
        "Ollama",
        llm_server.url,
        "llama3.1:8b",
        False,
    )
    assert services.settings.get(DEFAULT_PROFILE) == profile.id
    assert services.settings.get(DEFAULT_MODEL) == "llama3.1:8b"
    target = services.chat.target(new_conversation(services))
    assert target is not None
    assert (target.profile.id, target.model) == (profile.id, "llama3.1:8b")


def test_nothing_found_says_so_and_looks_again_on_request(
    aloop, qtbot, services: AppServices, llm_server: LLMServer
) -> None:
    port = _free_port()
    dialog = _welcome(
        qtbot, services, local_presets=(_local("vLLM", f"http://127.0.0.1:{port}/v1"),), timeout=0.5
    )
    run(aloop, until(lambda: not dialog.searching()))
    assert dialog.found == []
    assert dialog.local_status.text().startswith("No model server answered on this computer.")
    assert dialog.look_again.isEnabled()

    dialog.look_for_servers((_local("vLLM", llm_server.url),))  # the server has started meanwhile
    run(aloop, until(lambda: not dialog.searching()))
    assert [s.preset.name for s in dialog.found] == ["vLLM"]
    qtbot.mouseClick(dialog.look_again, Qt.MouseButton.LeftButton)  # looks again at the same ports
    assert dialog.local_status.text() == "Looking for vLLM on this computer…"
    run(aloop, until(lambda: not dialog.searching()))
    assert [s.preset.name for s in dialog.found] == ["vLLM"]


def test_skip_closes_it_and_sets_nothing_up(aloop, qtbot, services: AppServices) -> None:
    dialog = _welcome(qtbot, services, local_presets=(), timeout=0.2)
    with qtbot.waitSignal(dialog.finished):
        qtbot.mouseClick(dialog.skip_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert services.providers.profiles() == []


def test_other_endpoint_asks_for_settings(aloop, qtbot, services: AppServices) -> None:
    dialog = _welcome(qtbot, services, local_presets=(), timeout=0.2)
    with qtbot.waitSignal(dialog.settings_requested):
        qtbot.mouseClick(dialog.settings_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def _cloud(server: LLMServer) -> Preset:
    return Preset(
        "Cloudy", server.url, needs_key=True, default_model="big-model", key_url="https://keys.example/"
    )


@pytest.mark.keyring
def test_a_pasted_cloud_key_is_checked_then_saved_in_the_keychain(
    aloop, qtbot, keyring_services: AppServices, llm_server: LLMServer, tmp_path: Path
) -> None:
    services = keyring_services
    llm_server.models = ["small-model", "big-model"]
    dialog = _welcome(qtbot, services, local_presets=(), cloud_presets=(_cloud(llm_server),), timeout=0.2)
    assert "https://keys.example/" in dialog.key_link.text()
    key = f"sk-welcome-{uuid.uuid4().hex}"
    dialog.key_edit.setFocus()
    qtbot.keyClicks(dialog.key_edit, key)
    qtbot.keyClick(dialog.key_edit, Qt.Key.Key_Return)
    assert dialog.checking()
    run(aloop, until(lambda: not dialog.isVisible()))
    assert dialog.result() == QDialog.DialogCode.Accepted
    (profile,) = services.providers.profiles()
    assert (profile.name, profile.default_model, profile.needs_key) == ("Cloudy", "big-model", True)
    assert SecretStore(backend=services.secrets._backend).get(profile.key_ref) == key
    assert llm_server.requests[0].headers["authorization"] == f"Bearer {key}"
    assert services.settings.get(DEFAULT_PROFILE) == profile.id
    services.store.db.execute_sql("PRAGMA wal_checkpoint(FULL)")
    assert files_containing(tmp_path, key) == []


@pytest.mark.keyring
def test_a_refused_cloud_key_is_not_saved(
    aloop, qtbot, keyring_services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.models = None
    llm_server.enqueue([http_error(401, "Incorrect API key provided")])
    dialog = _welcome(
        qtbot, keyring_services, local_presets=(), cloud_presets=(_cloud(llm_server),), timeout=0.2
    )
    qtbot.keyClicks(dialog.key_edit, "sk-wrong-key-123456")
    qtbot.mouseClick(dialog.cloud_button, Qt.MouseButton.LeftButton)
    run(aloop, until(lambda: not dialog.checking()))
    assert dialog.isVisible()
    assert "refused the API key (HTTP 401)" in dialog.cloud_status.text()
    assert dialog.cloud_status.kind() == "error"
    assert keyring_services.providers.profiles() == []


def test_without_a_keychain_the_cloud_part_says_why(
    aloop, qtbot, no_keychain_services: AppServices, llm_server: LLMServer
) -> None:
    services = no_keychain_services
    dialog = _welcome(qtbot, services, local_presets=(_local("Ollama", llm_server.url),), timeout=1.0)
    assert not dialog.key_edit.isEnabled()
    assert dialog.cloud_status.text().startswith("No keychain is available")
    run(aloop, until(lambda: not dialog.searching()))
    qtbot.mouseClick(dialog.use_buttons[0], Qt.MouseButton.LeftButton)  # local servers still work
    assert [p.name for p in services.providers.profiles()] == ["Ollama"]


def test_the_window_offers_the_welcome_only_while_no_provider_is_set_up(
    aloop, qtbot, main_window, llm_server: LLMServer
) -> None:
    w = main_window()
    presets = (_local("Ollama", llm_server.url),)
    dialog = w.show_welcome(local_presets=presets, timeout=1.0)
    assert isinstance(dialog, WelcomeDialog)
    assert dialog.isVisible()
    assert dialog.windowModality() == Qt.WindowModality.WindowModal  # over the window, never exec()
    run(aloop, until(lambda: not dialog.searching()))  # the loop kept running under the dialog
    dialog.reject()
    assert w.setup_button.isVisible()

    qtbot.mouseClick(w.setup_button, Qt.MouseButton.LeftButton)
    (again,) = [d for d in w.findChildren(WelcomeDialog) if d.isVisible()]
    assert again is not dialog
    assert again.local_status.text() == "Looking for Ollama, LM Studio, llama.cpp, vLLM on this computer…"
    again.look_for_servers(presets)
    run(aloop, until(lambda: again.use_buttons))
    qtbot.mouseClick(again.use_buttons[0], Qt.MouseButton.LeftButton)
    assert not w.setup_button.isVisible()
    assert w.model_picker.currentText() == "Ollama · test-model"
    assert w.composer.isEnabled()
    assert w.show_welcome_if_needed() is None  # a provider exists: no welcome at the next start
