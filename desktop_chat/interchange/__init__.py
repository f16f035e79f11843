"""Export and import: this app's versioned JSON format, Markdown and HTML pages, ChatGPT's and Claude's
data exports. No Qt and no SQL: the store is reached only through `Repo` (`conversation_tree` to read a
conversation whole, `insert_conversation_tree` to write one in one transaction).

`export.export` and `importers.import_file` are the entry points; `format` owns the JSON format.
"""
