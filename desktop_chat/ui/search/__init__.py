"""Finding things: the search-everything panel (Ctrl+K) and the find bar of the open conversation (Ctrl+F)."""
