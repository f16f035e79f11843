"""The open conversation's transcript: model, row, text, markdown, documents, segment, layout, paint,
style, delegate and view (one module per job; docs/architecture.md says what each holds)."""
