"""Imports after PySide6 without PySide's source scan.

Once PySide6 is imported it replaces `__import__`, and after every import of a module it has not seen
it reads the module's whole source (`inspect.getsource`) to find out whether the module uses PySide,
for its optional `from __feature__ import snake_case, true_property` syntax. This app uses no
`__feature__`, so the answer never matters; reading the sources cost about 15 % of the imports before
the window's first paint (190 modules, measured under cProfile) and 1.6 s of CPU while the HTTP stack
was imported in the background. The scan also looks up attributes of half-imported modules, which is
how an import of pydantic in a worker thread could fail now and then. `skip_source_scan()` answers
the question from the module's name instead: this app's modules use PySide, no one else's counts.
"""

from __future__ import annotations

import sys
from types import ModuleType

_OURS = "desktop_chat"


def _uses_pyside(module: ModuleType) -> bool:
    name = getattr(module, "__name__", "")
    return name == _OURS or name.startswith(_OURS + ".")


def skip_source_scan() -> bool:
    """Make PySide's per-import check read module names, not sources; False if PySide has no such check."""
    import PySide6.QtCore  # noqa: F401  (installs the import hook this replaces)

    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = _uses_pyside  # type: ignore[attr-defined]
    return True
