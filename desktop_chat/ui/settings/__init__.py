"""The settings dialog, one module per page, and the conversation settings dialog."""
