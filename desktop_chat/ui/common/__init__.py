"""Pieces every part of the window shares: small widgets, form helpers, theme, resources, widget tasks,
the base of the window's non-widget parts."""
