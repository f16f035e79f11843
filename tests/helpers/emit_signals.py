"""Emit many Qt signals of each argument type and count them (run as a subprocess: a refcount bug aborts)."""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QObject, Signal


class Emitter(QObject):
    """One signal per argument type the app uses."""

    s_bool = Signal(bool)
    s_int = Signal(int)
    s_float = Signal(float)
    s_str = Signal(str)
    s_object = Signal(object)
    s_list = Signal(list)
    s_dict = Signal(dict)
    s_none = Signal()
    s_int_str = Signal(int, str)


def main() -> int:
    """Emit N of each; print the counts as JSON."""
    n = int(sys.argv[1])
    app = QCoreApplication.instance() or QCoreApplication([])
    emitter = Emitter()
    counts: dict[str, int] = {}
    samples = {
        "s_bool": lambda i: (i % 2 == 0,),
        "s_int": lambda i: (i,),
        "s_float": lambda i: (i / 3,),
        "s_str": lambda i: (f"delta {i}",),
        "s_object": lambda i: ({"i": i},),
        "s_list": lambda i: ([i, "x"],),
        "s_dict": lambda i: ({"k": i},),
        "s_none": lambda i: (),
        "s_int_str": lambda i: (i, "s"),
    }
    for name, make in samples.items():
        counts[name] = 0

        def slot(*_args: object, _name: str = name) -> None:
            counts[_name] += 1

        signal = getattr(emitter, name)
        signal.connect(slot)
        for i in range(n):
            signal.emit(*make(i))
    app.processEvents()
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
