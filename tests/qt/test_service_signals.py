"""Every service announces its changes through signals that are documented and typed.

Each public signal of a service QObject is listed in a `Signals:` section of the class docstring as
`name(Type, ...)`; no payload is a bare string, and every object payload is a frozen dataclass or an enum.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import pkgutil
import re

import pytest
from PySide6.QtCore import QMetaMethod, QObject

import desktop_chat.services

_ENTRY = re.compile(r"^\s{4,}(\w+)\(([^)]*)\):", re.MULTILINE)


def service_classes() -> list[type[QObject]]:
    """The QObject classes defined in desktop_chat/services."""
    found: list[type[QObject]] = []
    for info in pkgutil.iter_modules(desktop_chat.services.__path__, "desktop_chat.services."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, QObject) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def declared_signals(cls: type[QObject]) -> dict[str, list[str]]:
    """Public signals declared by the class itself: name -> Qt parameter types."""
    meta = cls.staticMetaObject  # type: ignore[attr-defined]
    out: dict[str, list[str]] = {}
    for i in range(meta.methodOffset(), meta.methodCount()):
        method = meta.method(i)
        if method.methodType() != QMetaMethod.MethodType.Signal:
            continue
        name = bytes(method.name().data()).decode()
        if not name.startswith("_"):
            out[name] = [bytes(t.data()).decode() for t in method.parameterTypes()]
    return out


def documented(cls: type[QObject]) -> dict[str, list[str]]:
    """The `Signals:` section of the docstring: name -> documented payload types."""
    doc = inspect.getdoc(cls) or ""
    if "Signals:" not in doc:
        return {}
    section = doc.split("Signals:", 1)[1]
    return {
        name: [t.strip() for t in params.split(",") if t.strip()] for name, params in _ENTRY.findall(section)
    }


def test_the_services_are_found() -> None:
    names = {cls.__name__ for cls in service_classes()}
    assert {"ChatService", "ConversationService", "SearchService", "HistoryJobs", "McpService"} <= names


@pytest.mark.parametrize("cls", service_classes(), ids=lambda c: c.__name__)
def test_signals_are_documented_with_typed_payloads(cls: type[QObject]) -> None:
    doc = inspect.getdoc(cls) or ""
    assert "Signals:" in doc, f"{cls.__name__}'s docstring has no Signals: section"
    signals, listed = declared_signals(cls), documented(cls)
    assert set(listed) == set(signals), (
        f"{cls.__name__}: documented {sorted(listed)}, declared {sorted(signals)}"
    )
    module = importlib.import_module(cls.__module__)
    for name, qt_types in signals.items():
        types = listed[name]
        assert len(types) == len(qt_types), f"{cls.__name__}.{name}: documented {types}, declared {qt_types}"
        for qt_type, doc_type in zip(qt_types, types, strict=True):
            assert qt_type != "QString", f"{cls.__name__}.{name} carries a bare str"
            if qt_type == "PyObject":
                payload = getattr(module, doc_type, None)
                assert isinstance(payload, type), f"{cls.__name__}.{name}: {doc_type} is not a class here"
                frozen = dataclasses.is_dataclass(payload) and payload.__dataclass_params__.frozen  # type: ignore[attr-defined]
                assert frozen or issubclass(payload, enum.Enum), (
                    f"{doc_type} is not a frozen dataclass or enum"
                )
            else:
                assert doc_type == qt_type, (
                    f"{cls.__name__}.{name}: documented {doc_type}, declared {qt_type}"
                )
