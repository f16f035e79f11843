"""Recorded-style SSE transcripts of how real providers and local servers stream chat completions.

Each `Shape` holds the raw lines a server sends (`data: ` prefixes, comments, blank lines, `[DONE]` or
not) and what a careful client must end up with. `replay()` runs the lines through `SSEDecoder` and
`ChunkParser` the way the transport does; `to_lines()` gives the text a test server sends verbatim;
`assemble()` folds events into the answer a chat service would store.

The shapes follow captures published in docs, issues and fixtures (cited on each); ids, timestamps and
texts are shortened, the structure is kept.
"""

from __future__ import annotations

from tests.helpers.shapes import gateways, local_servers, openai, reasoning, wire
from tests.helpers.shapes.model import Outcome, Shape, assemble, replay, to_lines

__all__ = ["FAMILIES", "SHAPES", "Outcome", "Shape", "assemble", "replay", "to_lines"]

FAMILIES: dict[str, list[Shape]] = {
    "openai": openai.SHAPES,
    "gateways": gateways.SHAPES,
    "local_servers": local_servers.SHAPES,
    "reasoning": reasoning.SHAPES,
    "wire": wire.SHAPES,
}

# The order the parametrised tests have always run them in.
_ORDER = (
    "openai_text_usage_last",
    "openai_tool_call_split",
    "openai_parallel_tool_calls_interleaved",
    "mistral_whole_tool_call",
    "ollama_parallel_tool_calls_index_zero",
    "ids_and_names_repeated_every_piece",
    "gemini_tool_calls_without_index",
    "gemini_repeated_ids_without_index",
    "arguments_as_object",
    "legacy_function_call",
    "deepseek_reasoning_content",
    "llamacpp_reasoning_and_timings",
    "llamacpp_timings_without_usage",
    "llamacpp_tool_call",
    "llamacpp_error_field",
    "openrouter_reasoning_and_details",
    "openrouter_reasoning_details_only",
    "ollama_reasoning_field",
    "vllm_reasoning_in_two_fields",
    "think_tags_in_content",
    "think_tags_split_across_chunks",
    "think_tag_later_is_text",
    "think_unclosed_at_length",
    "mistral_thinking_content_parts",
    "groq_x_groq_usage",
    "vllm_continuous_usage",
    "azure_prompt_filter_first",
    "openrouter_midstream_error",
    "sse_event_error",
    "top_level_error_line",
    "vllm_error_object",
    "finish_length",
    "finish_content_filter",
    "null_delta_and_choices",
    "finish_without_done",
    "done_without_finish_reason",
    "stream_cut_midway",
    "malformed_json_line",
    "events_without_blank_lines",
    "crlf_line_endings",
    "ndjson_bare_lines",
    "data_without_space_bom_and_fields",
    "multi_line_data",
    "unicode_split_across_deltas",
    "line_separators_in_text",
    "utf16_surrogates_split",
    "empty_stream_done_at_once",
    "n2_choices",
    "finish_stop_on_every_chunk",
    "together_eos_with_text_field",
    "anthropic_stop_reasons_via_gateway",
    "usage_inside_choice",
    "openai_refusal",
    "text_then_tool_call",
    "error_before_any_content",
)

_BY_NAME = {shape.name: shape for family in FAMILIES.values() for shape in family}
SHAPES: dict[str, Shape] = {name: _BY_NAME[name] for name in _ORDER}
