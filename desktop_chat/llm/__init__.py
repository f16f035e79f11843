"""Talking to OpenAI-compatible endpoints: requests, stream parsing, typed errors (no Qt)."""
