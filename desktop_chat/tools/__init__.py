"""Tools the model can call: one registry for built-in tools and MCP servers."""
