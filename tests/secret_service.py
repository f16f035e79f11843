"""Pytest plugin: a real Secret Service (gnome-keyring on a private D-Bus) for keyring tests.

(Placeholder; the fixture `secret_service` is defined here.)
"""
