"""Pieces every part of the window shares: small widgets, form helpers, theme, resources, widget tasks."""
