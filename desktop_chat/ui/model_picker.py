"""The header's model picker: a provider profile and one of its models.

The models come from the endpoint's list, asked in the background and cached by the provider service.
Nothing is asked at start-up: the list is fetched when the person reaches for it (opens the list, clicks
into the model box, or switches to a profile whose model is not known yet), and shown from the cache
after that (refreshed when stale). A server without a list still works: the model box is editable, and a
typed model id is used as it is.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QComboBox, QCompleter, QHBoxLayout, QLineEdit, QWidget

from desktop_chat.services.providers import ProviderService
from desktop_chat.ui.common.widget_tasks import Jobs, noop

LISTING = "Listing the models of {name}…"


class _ModelLine(QLineEdit):
    """The model box's text field; says when it gets the focus."""

    focused = Signal()

    def focusInEvent(self, event: QFocusEvent) -> None:
        """Announce, then take the focus."""
        super().focusInEvent(event)
        self.focused.emit()


class _ModelBox(QComboBox):
    """An editable combo box that says when its popup is about to open."""

    popup_opening = Signal()

    def showPopup(self) -> None:
        """Announce, then open."""
        self.popup_opening.emit()
        super().showPopup()


class ModelPicker(QWidget):
    """Choose a provider profile and a model; `chosen(profile_id, model)` when the person picks one."""

    chosen = Signal(int, str)

    def __init__(self, providers: ProviderService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelPicker")
        self.setAccessibleName("Provider and model")
        self._providers = providers
        self._jobs = Jobs(self)
        self._profile_id: int | None = None
        self._model = ""
        self._pick_first = False  # a profile was chosen before its models were known
        self._listing: int | None = None  # the profile whose models are being listed

        self.profile_box = QComboBox()
        self.profile_box.setObjectName("profilePicker")
        self.profile_box.setAccessibleName("Provider")
        self.profile_box.setToolTip("Provider")
        self.profile_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_box = _ModelBox()
        self.model_box.setObjectName("modelBox")
        self.model_box.setAccessibleName("Model")
        self.model_box.setEditable(True)
        self.model_line = _ModelLine()
        self.model_box.setLineEdit(self.model_line)
        self.model_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_box.setMinimumContentsLength(22)
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        completer = QCompleter(self.model_box.model(), self.model_box)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.model_box.setCompleter(completer)
        line = self.model_line
        line.setPlaceholderText("Model id")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.profile_box)
        layout.addWidget(self.model_box)

        providers.profiles_changed.connect(self._reload_profiles)
        providers.models_listed.connect(self._on_models_listed)
        self.profile_box.activated.connect(self._on_profile_activated)
        self.model_box.activated.connect(self._on_model_activated)
        line.editingFinished.connect(self._on_model_typed)
        self.model_box.popup_opening.connect(self.refresh_if_stale)
        self.model_line.focused.connect(self.refresh_if_stale)
        self._reload_profiles()

    # ---- what the window asks ------------------------------------------------------------------

    def current(self) -> tuple[int | None, str]:
        """The profile id and model shown."""
        return self._profile_id, self._model

    def currentText(self) -> str:
        """`Profile · model`, as a person reads it."""
        return f"{self.profile_box.currentText()} · {self._model or 'no model'}"

    def set_target(self, profile_id: int | None, model: str) -> None:
        """Show what a conversation uses (no `chosen` signal)."""
        self._pick_first = False
        self._profile_id, self._model = profile_id, model
        self._select_profile()
        self._fill_models()

    def refresh_if_stale(self) -> None:
        """Ask the endpoint for its models in the background when the cached list is missing or old."""
        if self._profile_id is None:
            return
        cached = self._providers.cached_models(self._profile_id)
        if cached is None or not cached.fresh:
            self._refresh()

    def busy(self) -> bool:
        """True while models are being listed."""
        return self._jobs.running("models")

    # ---- filling -------------------------------------------------------------------------------

    def _reload_profiles(self) -> None:
        box = self.profile_box
        box.blockSignals(True)
        box.clear()
        for profile in self._providers.profiles():
            box.addItem(profile.name, profile.id)
        box.blockSignals(False)
        if self._profile_id is not None and box.findData(self._profile_id) < 0:
            self._profile_id, self._model = None, ""
        self._select_profile()
        self._fill_models()
        if self.parentWidget() is not None or box.count() == 0:  # never pops up as a window of its own
            self.setVisible(box.count() > 0)

    def _select_profile(self) -> None:
        index = self.profile_box.findData(self._profile_id) if self._profile_id is not None else -1
        self.profile_box.blockSignals(True)
        self.profile_box.setCurrentIndex(index)
        self.profile_box.blockSignals(False)

    def _fill_models(self) -> None:
        box = self.model_box
        cached = self._providers.cached_models(self._profile_id) if self._profile_id is not None else None
        models = list(cached.models) if cached is not None else []
        if self._model and self._model not in models:
            models.insert(0, self._model)
        line = self.model_line
        editing = line.hasFocus() and line.text().strip() not in ("", self._model)
        typed = line.text()
        box.blockSignals(True)
        box.clear()
        box.addItems(models)
        box.setCurrentIndex(models.index(self._model) if self._model in models else -1)
        line.setText(typed if editing else self._model)
        box.blockSignals(False)
        if self._profile_id is None:
            tip = "Add a provider in Settings"
        elif cached is None:
            name = self.profile_box.currentText()
            tip = LISTING.format(name=name) if self.busy() else "Model (type a model id, or open the list)"
        elif cached.error:
            tip = f"{cached.error}\nType a model id to use one anyway."
        else:
            n = len(cached.models)
            tip = (
                f"{n} model{'s' if n != 1 else ''} listed by {self.profile_box.currentText()}; or type an id"
            )
        box.setToolTip(tip)
        line.setPlaceholderText("Type a model id" if cached is not None and not cached.models else "Model id")

    def _refresh(self) -> None:
        profile_id = self._profile_id
        if profile_id is None or (self.busy() and self._listing == profile_id):
            return
        self._listing = profile_id  # a listing of another profile is left to finish into the cache
        self._jobs.start(lambda: self._providers.refresh_models(profile_id), noop, key="models")
        self.model_box.setToolTip(LISTING.format(name=self.profile_box.currentText()))

    def _on_models_listed(self, profile_id: int) -> None:
        if profile_id != self._profile_id:
            return
        cached = self._providers.cached_models(profile_id)
        if self._pick_first and not self._model and cached is not None and cached.models:
            self._pick_first = False
            self._commit(cached.models[0])
            return
        self._fill_models()

    # ---- choosing ------------------------------------------------------------------------------

    def _on_profile_activated(self, index: int) -> None:
        profile_id = self.profile_box.itemData(index)
        if not isinstance(profile_id, int) or profile_id == self._profile_id:
            return
        profile = self._providers.get(profile_id)
        if profile is None:
            return
        cached = self._providers.cached_models(profile_id)
        model = profile.default_model or (cached.models[0] if cached is not None and cached.models else "")
        self._profile_id, self._model = profile_id, ""
        if model:
            self._commit(model)
            return
        self._pick_first = True  # the first model listed, once the list arrives
        self._fill_models()
        self._refresh()
        self.model_line.setFocus()

    def _on_model_activated(self, index: int) -> None:
        text = self.model_box.itemText(index).strip()
        if text:
            self._commit(text)

    def _on_model_typed(self) -> None:
        text = self.model_line.text().strip()
        if not text:
            self.model_line.setText(self._model)
        elif text != self._model:
            self._commit(text)

    def _commit(self, model: str) -> None:
        if self._profile_id is None:
            return
        self._pick_first = False
        self._model = model
        self._fill_models()
        self.chosen.emit(self._profile_id, model)
