"""Search everything (Ctrl+K): every conversation, as you type, with highlighted snippets.

Words, "phrases", -exclude and prefix* work as in the store's full-text index. Results come newest first or
by relevance; Enter (or a double-click) opens the conversation at the hit. Each keystroke starts a new
search that interrupts the previous one (`SearchService`): stale queries never run late.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QPainter, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.services.search import SearchHit, SearchOrder, SearchResults, SearchService
from desktop_chat.ui.common.forms import beside

Index = QModelIndex | QPersistentModelIndex
HIT_ROLE = Qt.ItemDataRole.UserRole + 1


def hit_html(hit: SearchHit) -> str:
    """A result as rich text: title and date, then the snippet with its hits in bold."""
    when = hit.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
    who = hit.role.label
    mark = "<b style='background-color:#fff3a8; color:#000'>{}</b>"
    snippet = "".join(
        mark.format(html.escape(text)) if marked else html.escape(text)
        for text, marked in hit.snippet_parts()
    )
    title = html.escape(hit.conversation_title or "New chat")
    return f"<b>{title}</b> <span style='color:gray'>· {when} · {who}</span><br>{snippet}"


class HitModel(QAbstractListModel):
    """The results of the newest search."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hits: list[SearchHit] = []

    def set_hits(self, hits: list[SearchHit]) -> None:
        """Show these results."""
        self.beginResetModel()
        self.hits = list(hits)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.hits)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.hits):
            return None
        hit = self.hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return hit_html(hit)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            plain = "".join(t for t, _ in hit.snippet_parts())
            return f"{hit.conversation_title}: {plain}"
        if role == HIT_ROLE:
            return hit
        return None


class _HtmlDelegate(QStyledItemDelegate):
    """Rich-text rows (the snippet's hits in bold)."""

    def _doc(self, option: QStyleOptionViewItem, index: Index) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        if option.state & QStyle.StateFlag.State_Selected:  # readable on the selection colour
            text = text.replace("color:gray", f"color:{option.palette.highlightedText().color().name()}")
            text = f"<div style='color:{option.palette.highlightedText().color().name()}'>{text}</div>"
        doc.setHtml(text)
        doc.setTextWidth(max(100, option.rect.width() - 12))
        return doc

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        doc = self._doc(opt, index)
        painter.save()
        painter.translate(option.rect.left() + 6, option.rect.top() + 4)
        doc.drawContents(painter)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        doc = self._doc(option, index)
        return QSize(int(doc.idealWidth()), int(doc.size().height()) + 8)


class SearchPanel(QDialog):
    """The search window: a query field, the order, and the results."""

    open_requested = Signal(int, int, str)  # conversation id, message id, query

    def __init__(self, search: SearchService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchPanel")
        self.setWindowTitle("Search all conversations")
        self.setAccessibleName("Search all conversations")
        self._search = search
        self.field = QLineEdit()
        self.field.setObjectName("searchField")
        self.field.setAccessibleName("Search")
        self.field.setPlaceholderText('Words, "a phrase", -exclude, prefix*')
        self.field.setClearButtonEnabled(True)
        self.order = QComboBox()
        self.order.setObjectName("searchOrder")
        self.order.setAccessibleName("Order of results")
        self.order.addItem("Newest first", SearchOrder.RECENT)
        self.order.addItem("Best match", SearchOrder.RANK)
        self.model = HitModel(self)
        self.results = QListView()
        self.results.setObjectName("searchResults")
        self.results.setAccessibleName("Search results")
        self.results.setModel(self.model)
        self.results.setItemDelegate(_HtmlDelegate(self.results))
        self.results.setUniformItemSizes(False)
        self.results.setWordWrap(True)
        self.status = QLabel("")
        self.status.setObjectName("searchStatus")
        top = beside(self.field, self.order)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)
        self.resize(720, 520)
        self.field.textChanged.connect(self._query_changed)
        self.order.currentIndexChanged.connect(lambda _i: self._query_changed(self.field.text()))
        self.results.activated.connect(self._open)
        self.field.returnPressed.connect(self._open_current)
        self.field.installEventFilter(self)
        search.results.connect(self._show)
        search.failed.connect(lambda failed: self.status.setText(failed.message))
        self._query = ""

    def _query_changed(self, text: str) -> None:
        self._query = text.strip()
        if not self._query:
            self._search.search("")  # makes any running search stale
            self.model.set_hits([])
            self.status.setText("")
            return
        self.status.setText("Searching…")
        self._search.search(self._query, order=self.order.currentData())

    def _show(self, results: SearchResults) -> None:
        if results.query != self._query:
            return
        found = list(results.hits)
        self.model.set_hits(found)
        if found:
            self.results.setCurrentIndex(self.model.index(0))
        n = len(found)
        more = "+" if n >= 50 else ""
        self.status.setText(f"{n}{more} result{'s' if n != 1 else ''}" if n else "No results")

    def eventFilter(self, watched: object, event: object) -> bool:
        """Up and Down in the field move through the results."""
        if (
            watched is self.field
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up)
            and self.model.rowCount()
        ):
            row = self.results.currentIndex().row()
            last = self.model.rowCount() - 1
            row = min(last, row + 1) if event.key() == Qt.Key.Key_Down else max(0, row - 1)
            self.results.setCurrentIndex(self.model.index(row))
            return True
        return False

    def _open_current(self) -> None:
        index = self.results.currentIndex()
        if index.isValid():
            self._open(index)

    def _open(self, index: Index) -> None:
        hit = index.data(HIT_ROLE)
        if isinstance(hit, SearchHit):
            self.open_requested.emit(hit.conversation_id, hit.message_id, self._query)
            self.accept()

    def show_for(self, text: str = "") -> None:
        """Show the panel with the field focused (and `text` in it, selected)."""
        if text:
            self.field.setText(text)
        self.field.selectAll()
        self.show()
        if QGuiApplication.platformName() != "offscreen":  # (it warns there)
            self.raise_()
            self.activateWindow()
        self.field.setFocus()
