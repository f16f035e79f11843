"""The dialogs the window opens over itself, none of them blocking it: Settings (one at a time), the
open conversation's settings, and the first-run welcome (one at a time too)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from desktop_chat.services.app_services import AppServices
from desktop_chat.services.providers import Preset


def open_settings(window: QWidget, services: AppServices, page: str = "providers") -> QWidget:
    """Show the Settings dialog on `page` (the one open already, if any); returns it."""
    from desktop_chat.ui.settings.dialog import SettingsDialog

    dialog = next((d for d in window.findChildren(SettingsDialog) if d.isVisible()), None)
    if dialog is None:
        dialog = SettingsDialog(services, window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if page != "providers":
        dialog.show_page(page)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def open_conversation_settings(window: QWidget, services: AppServices, conversation_id: int) -> QWidget:
    """Show a conversation's settings (system prompt, temperature, max tokens); returns the dialog."""
    from desktop_chat.ui.settings.conversation import ConversationSettingsDialog

    dialog = ConversationSettingsDialog(
        services.conversations, services.settings, conversation_id, window, tools=services.tools
    )
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def show_welcome(
    window: QWidget,
    services: AppServices,
    *,
    local_presets: tuple[Preset, ...] | None,
    timeout: float | None,
    open_settings: Callable[[], object],
    provider_added: Callable[[], None],
) -> QWidget:
    """The first-run welcome (the one open already, if any); `open_settings` and `provider_added` are
    called when the person asks for the Settings or adds a provider."""
    from desktop_chat.ui.welcome import DETECT_TIMEOUT_S, WelcomeDialog

    dialog = next((d for d in window.findChildren(WelcomeDialog) if d.isVisible()), None)
    if dialog is None:
        dialog = WelcomeDialog(
            services.providers,
            window,
            local_presets=local_presets,
            timeout=DETECT_TIMEOUT_S if timeout is None else timeout,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.settings_requested.connect(open_settings)
        dialog.provider_added.connect(lambda _pid: provider_added())
    dialog.open()
    return dialog
