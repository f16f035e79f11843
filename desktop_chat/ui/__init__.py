"""Widgets, models and views. Talks only to services; never imports the store or the model client."""
