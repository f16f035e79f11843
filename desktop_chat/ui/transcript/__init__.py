"""The open conversation: model, text formatting, markdown, layout, painting, delegate and view."""
