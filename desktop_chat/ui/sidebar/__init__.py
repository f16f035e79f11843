"""The left pane: the conversation list (day groups, model, filter proxy, delegate, view) and its controls."""
