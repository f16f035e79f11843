"""The header's model picker: profiles and their models (listed in the background, cached), typed model ids,
and a choice that applies to the open conversation and becomes the default for new ones."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import DEFAULT_MODEL, DEFAULT_PROFILE
from desktop_chat.ui.empty_state import NO_MODEL_HINT, NO_PROVIDER_HINT
from desktop_chat.ui.model_picker import ModelPicker
from tests.helpers.history import new_conversation, stored
from tests.helpers.llm_server import LLMServer
from tests.helpers.loop import run, until


@pytest.fixture
def second_server() -> Iterator[LLMServer]:
    with LLMServer(models=["beta-1", "beta-2"]) as server:
        yield server


_holders: list[QWidget] = []


@pytest.fixture(autouse=True)
def _drop_holders() -> Iterator[None]:
    yield
    _holders.clear()


def _picker(qtbot, services: AppServices) -> ModelPicker:
    holder = QWidget()
    _holders.append(holder)  # the picker's parent window lives until the test ends
    qtbot.addWidget(holder)
    picker = ModelPicker(services.providers, holder)
    holder.show()
    return picker


def _items(picker: ModelPicker) -> list[str]:
    return [picker.model_box.itemText(i) for i in range(picker.model_box.count())]


def _type_model(qtbot, picker: ModelPicker, model: str) -> None:
    line = picker.model_line
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, model)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_models_are_listed_in_the_background_and_cached(
    aloop, qtbot, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.models = ["alpha", "beta", "gamma"]
    profile = services.providers.add("Here", llm_server.url, default_model="beta", needs_key=False)
    picker = _picker(qtbot, services)
    picker.set_target(profile.id, "beta")
    assert _items(picker) == ["beta"]
    assert picker.model_line.text() == "beta"
    run(aloop, asyncio.sleep(0.05))
    assert llm_server.requests == []  # nothing is asked before the person reaches for the list

    picker.model_box.setFocus()
    assert picker.busy()  # returned at once: the list is asked in the background
    run(aloop, until(lambda: _items(picker) == ["alpha", "beta", "gamma"]))
    assert picker.model_line.text() == "beta"
    assert picker.currentText() == "Here · beta"
    assert "3 models listed by Here" in picker.model_box.toolTip()

    other = _picker(qtbot, services)
    other.set_target(profile.id, "gamma")
    assert _items(other) == ["alpha", "beta", "gamma"]  # from the cache
    other.model_box.setFocus()
    assert not other.busy()  # fresh: no second request
    assert [r.path for r in llm_server.requests] == ["/v1/models"]


def test_a_server_without_a_list_takes_a_typed_model_id(
    aloop, qtbot, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.models = None
    profile = services.providers.add("Bare", llm_server.url, default_model="first", needs_key=False)
    picker = _picker(qtbot, services)
    picker.set_target(profile.id, "first")
    picker.refresh_if_stale()
    run(aloop, until(lambda: services.providers.cached_models(profile.id) is not None))
    assert "no model list" in picker.model_box.toolTip()
    assert _items(picker) == ["first"]
    with qtbot.waitSignal(picker.chosen) as chosen:
        _type_model(qtbot, picker, "my-own-model")
    assert chosen.args == [profile.id, "my-own-model"]
    assert picker.current() == (profile.id, "my-own-model")


def test_choosing_a_profile_without_a_default_model_takes_its_first_listed_model(
    aloop, qtbot, services: AppServices, llm_server: LLMServer, second_server: LLMServer
) -> None:
    first = services.providers.add("Alpha", llm_server.url, default_model="test-model", needs_key=False)
    second = services.providers.add("Beta", second_server.url, needs_key=False)
    picker = _picker(qtbot, services)
    picker.set_target(first.id, "test-model")
    chosen: list[tuple[int, str]] = []
    picker.chosen.connect(lambda pid, model: chosen.append((pid, model)))
    picker.profile_box.setFocus()
    qtbot.keyClick(picker.profile_box, Qt.Key.Key_Down)
    assert picker.profile_box.currentText() == "Beta"
    assert chosen == []  # no model known yet: nothing is switched to half a choice
    run(aloop, until(lambda: chosen))
    assert chosen == [(second.id, "beta-1")]
    assert _items(picker) == ["beta-1", "beta-2"]

    qtbot.keyClick(picker.profile_box, Qt.Key.Key_Up)
    assert chosen[-1] == (first.id, "test-model")  # its default model at once


def test_the_header_choice_applies_to_the_conversation_and_to_new_ones(
    aloop, qtbot, main_window, services: AppServices, llm_server: LLMServer, second_server: LLMServer
) -> None:
    first = services.providers.add("Alpha", llm_server.url, default_model="test-model", needs_key=False)
    second = services.providers.add("Beta", second_server.url, default_model="beta-1", needs_key=False)
    services.providers.use(first, "test-model")
    w = main_window()
    picker = w.model_picker
    assert w.findChild(ModelPicker, "modelPicker") is picker
    assert picker.accessibleName() == "Provider and model"
    a = run(aloop, w.create_conversation())
    assert picker.currentText() == "Alpha · test-model"

    picker.profile_box.setFocus()
    qtbot.keyClick(picker.profile_box, Qt.Key.Key_Down)  # Beta: its default model, beta-1
    picker.model_box.setFocus()
    run(aloop, until(lambda: _items(picker) == ["beta-1", "beta-2"]))
    qtbot.keyClick(picker.model_box, Qt.Key.Key_Down)  # the next model in the list
    conversation = services.conversations.get(a)
    assert (conversation.profile_id, conversation.model) == (second.id, "beta-2")
    assert (services.settings.get(DEFAULT_PROFILE), services.settings.get(DEFAULT_MODEL)) == (
        second.id,
        "beta-2",
    )
    assert w.composer.placeholderText().startswith("Message beta-2")

    services.chat.send(a, "hello")
    run(aloop, services.chat.wait(a))
    assert second_server.requests[-1].body["model"] == "beta-2"
    assert not [r for r in llm_server.requests if r.path.endswith("/completions")]

    b = run(aloop, w.create_conversation())  # a new conversation starts with the last choice
    assert b != a
    assert picker.currentText() == "Beta · beta-2"
    picker.profile_box.setFocus()
    qtbot.keyClick(picker.profile_box, Qt.Key.Key_Up)  # Alpha for this one
    assert services.conversations.get(b).model == "test-model"

    w.open_conversation(a)  # each conversation keeps its own choice
    assert picker.currentText() == "Beta · beta-2"
    w.open_conversation(b)
    assert picker.currentText() == "Alpha · test-model"


def test_sending_is_disabled_with_a_hint_until_a_model_is_chosen(
    qtbot, main_window, services: AppServices, llm_server: LLMServer
) -> None:
    w = main_window()
    assert w.composer.placeholderText() == NO_PROVIDER_HINT
    assert w.setup_button.isVisible()
    assert not w.model_picker.isVisible()
    services.providers.add("Modelless", llm_server.url, needs_key=False)
    assert w.model_picker.isVisible()
    assert not w.setup_button.isVisible()
    assert w.composer.placeholderText() == NO_MODEL_HINT  # a provider, but no model yet
    assert not w.send_button.isEnabled()


def test_a_deleted_profile_falls_back_to_the_default_with_its_own_model(
    services: AppServices, llm_server: LLMServer, second_server: LLMServer
) -> None:
    keep = services.providers.add("Keep", llm_server.url, default_model="test-model", needs_key=False)
    gone = services.providers.add("Gone", second_server.url, default_model="beta-1", needs_key=False)
    services.providers.use(keep, "test-model")
    conversation = new_conversation(services)
    services.conversations.set_model(conversation.id, gone.id, "beta-2")
    stored(services)
    target = services.chat.target(services.conversations.get(conversation.id))
    assert target is not None
    assert (target.profile.id, target.model) == (gone.id, "beta-2")
    services.providers.delete(gone.id)
    target = services.chat.target(services.conversations.get(conversation.id))
    assert target is not None
    assert (target.profile.id, target.model) == (keep.id, "test-model")  # not Gone's "beta-2"
