"""The left pane (`pane.py`) and its conversation list: day groups in plain Python (`groups.py`), the
source model (`model.py`), the filter proxy (`proxy.py`), the row painter (`delegate.py`), the view
(`view.py`), the item data roles they share (`roles.py`) and the undo bar (`undo_bar.py`)."""
