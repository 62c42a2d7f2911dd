"""Data tables of request bodies, valid and invalid, one rule per row (no tests in here).

Import from test modules in tests/ as `from validation_cases import INVALID_CASES` (pytest puts
tests/ on sys.path). Every body is built fresh by a helper, so a test may mutate what it gets.

- INVALID_CASES: (id, body, expected path of the first problem, substring of its message)
- VALID_CASES: (id, body); includes every example request of the seeds and PROTOCOL
- BAD_BODY_CASES: (id, raw bytes, Content-Type, substring of the 400 message) for parse_json_body
- GOOD_BODY_CASES: (id, raw bytes, Content-Type, expected dict) for parse_json_body
"""

from __future__ import annotations

import copy
from typing import Any

MODEL = "openai/gpt-4o"
USER = {"role": "user", "content": "Hi"}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TOOL_CALL = {
    "id": "call_abc123",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
}


def body(**params: Any) -> dict[str, Any]:
    """A minimal valid request with `params` added or replaced (a value of ... removes a key)."""
    result: dict[str, Any] = {"model": MODEL, "messages": [dict(USER)]}
    result.update(copy.deepcopy(params))
    return {k: v for k, v in result.items() if v is not ...}


def messages(*items: Any) -> dict[str, Any]:
    """A valid request whose conversation is `items`."""
    return body(messages=list(items))


def user_parts(*parts: Any) -> dict[str, Any]:
    """A valid request with one user message whose content is `parts`."""
    return messages({"role": "user", "content": list(parts)})


def tool(**function: Any) -> dict[str, Any]:
    """A function tool whose definition is `function`."""
    return {"type": "function", "function": function}


def call(**changes: Any) -> dict[str, Any]:
    """The weather tool call with top-level `changes` (`...` removes a key)."""
    result = {**copy.deepcopy(TOOL_CALL), **changes}
    return {k: v for k, v in result.items() if v is not ...}


def fn_call(**function: Any) -> dict[str, Any]:
    """A tool call whose `function` object is exactly `function`."""
    return call(function=function)


def image(**image_url: Any) -> dict[str, Any]:
    return {"type": "image_url", "image_url": image_url}


def file(**file_obj: Any) -> dict[str, Any]:
    return {"type": "file", "file": file_obj}


def audio(**input_audio: Any) -> dict[str, Any]:
    return {"type": "input_audio", "input_audio": input_audio}


PNG = "data:image/png;base64,iVBORw0KGgo="
LONG_NAME = "a" * 65

# (id, body, expected path, expected message substring)
INVALID_CASES: list[tuple[str, Any, str, str]] = [
    # --- the body, model, messages / prompt ---
    ("body_is_array", [USER], "", "must be a JSON object"),
    ("body_is_string", "hello", "", "must be a JSON object"),
    ("model_missing", body(model=...), "model", "required"),
    ("model_not_string", body(model=42), "model", "must be a string"),
    ("model_null", body(model=None), "model", "must be a string"),
    ("model_empty", body(model=""), "model", "must not be empty"),
    ("messages_and_prompt_missing", body(messages=...), "messages", "required (or prompt)"),
    ("messages_empty", body(messages=[]), "messages", "must not be empty"),
    ("messages_not_array", body(messages="Hi"), "messages", "must be an array"),
    ("messages_with_prompt", body(prompt="Hi"), "messages", "cannot be used together with prompt"),
    ("prompt_not_string", body(messages=..., prompt=["Hi"]), "prompt", "must be a string"),
    # --- scalar parameters: types and each range boundary just outside ---
    ("stream_not_boolean", body(stream="yes"), "stream", "must be a boolean"),
    ("stream_options_not_object", body(stream_options=True), "stream_options", "must be an object or null"),
    ("stream_options_include_usage_not_boolean", body(stream_options={"include_usage": "yes"}), "stream_options.include_usage", "must be a boolean"),
    ("temperature_above_2", body(temperature=2.01), "temperature", "must be at most 2"),
    ("temperature_below_0", body(temperature=-0.01), "temperature", "must be at least 0"),
    ("temperature_string", body(temperature="0.5"), "temperature", "must be a number"),
    ("temperature_boolean", body(temperature=True), "temperature", "must be a number"),
    ("top_p_above_1", body(top_p=1.01), "top_p", "must be at most 1"),
    ("top_p_below_0", body(top_p=-0.01), "top_p", "must be at least 0"),
    ("top_k_negative", body(top_k=-1), "top_k", "must be at least 0"),
    ("top_k_fraction", body(top_k=1.5), "top_k", "must be an integer"),
    ("frequency_penalty_above_2", body(frequency_penalty=2.01), "frequency_penalty", "must be at most 2"),
    ("frequency_penalty_below_minus_2", body(frequency_penalty=-2.01), "frequency_penalty", "must be at least -2"),
    ("presence_penalty_above_2", body(presence_penalty=2.01), "presence_penalty", "must be at most 2"),
    ("presence_penalty_below_minus_2", body(presence_penalty=-2.01), "presence_penalty", "must be at least -2"),
    ("repetition_penalty_above_2", body(repetition_penalty=2.01), "repetition_penalty", "must be at most 2"),
    ("repetition_penalty_below_0", body(repetition_penalty=-0.01), "repetition_penalty", "must be at least 0"),
    ("min_p_above_1", body(min_p=1.01), "min_p", "must be at most 1"),
    ("min_p_below_0", body(min_p=-0.01), "min_p", "must be at least 0"),
    ("top_a_above_1", body(top_a=1.01), "top_a", "must be at most 1"),
    ("top_a_below_0", body(top_a=-0.01), "top_a", "must be at least 0"),
    ("seed_fraction", body(seed=4.2), "seed", "must be an integer"),
    ("seed_string", body(seed="42"), "seed", "must be an integer"),
    ("max_tokens_zero", body(max_tokens=0), "max_tokens", "must be at least 1"),
    ("max_tokens_fraction", body(max_tokens=10.5), "max_tokens", "must be an integer"),
    ("max_completion_tokens_zero", body(max_completion_tokens=0), "max_completion_tokens", "must be at least 1"),
    ("logit_bias_not_object", body(logit_bias=[1, 2]), "logit_bias", "must be an object or null"),
    ("logit_bias_above_100", body(logit_bias={"50256": 100.5}), "logit_bias.50256", "must be at most 100"),
    ("logit_bias_below_minus_100", body(logit_bias={"50256": -101}), "logit_bias.50256", "must be at least -100"),
    ("logit_bias_value_string", body(logit_bias={"50256": "-100"}), "logit_bias.50256", "must be a number"),
    ("logprobs_not_boolean", body(logprobs="true"), "logprobs", "must be a boolean"),
    ("top_logprobs_above_20", body(logprobs=True, top_logprobs=21), "top_logprobs", "must be at most 20"),
    ("top_logprobs_below_0", body(logprobs=True, top_logprobs=-1), "top_logprobs", "must be at least 0"),
    ("top_logprobs_without_logprobs", body(top_logprobs=5), "logprobs", "required (true) when top_logprobs is set"),
    ("top_logprobs_with_logprobs_false", body(logprobs=False, top_logprobs=5), "logprobs", "must be true when top_logprobs is set"),
    ("stop_five_items", body(stop=["a", "b", "c", "d", "e"]), "stop", "must have at most 4 items"),
    ("stop_number", body(stop=7), "stop", "must be a string, an array or null"),
    ("stop_item_not_string", body(stop=["a", 1]), "stop[1]", "must be a string"),
    ("n_zero", body(n=0), "n", "must be at least 1"),
    ("n_129", body(n=129), "n", "must be at most 128"),
    ("n_string", body(n="2"), "n", "must be an integer"),
    ("parallel_tool_calls_not_boolean", body(parallel_tool_calls=1), "parallel_tool_calls", "must be a boolean"),
    ("user_not_string", body(user=123), "user", "must be a string"),
    # --- tools and tool_choice ---
    ("tools_not_array", body(tools=WEATHER_TOOL), "tools", "must be an array"),
    ("tool_not_object", body(tools=["get_weather"]), "tools[0]", "must be an object"),
    ("tool_type_missing", body(tools=[{"function": {"name": "f"}}]), "tools[0].type", "required"),
    ("tool_type_unknown", body(tools=[{"type": "retrieval", "function": {"name": "f"}}]), "tools[0].type", "must be one of: function, openrouter:web_search, openrouter:datetime"),
    ("tool_function_missing", body(tools=[{"type": "function"}]), "tools[0].function", "required"),
    ("tool_name_missing", body(tools=[tool(description="no name")]), "tools[0].function.name", "required"),
    ("tool_name_with_space", body(tools=[tool(name="get weather")]), "tools[0].function.name", "must be 1 to 64 characters from a-z, A-Z, 0-9, _ and -"),
    ("tool_name_too_long", body(tools=[tool(name=LONG_NAME)]), "tools[0].function.name", "must be 1 to 64 characters"),
    ("tool_name_empty", body(tools=[tool(name="")]), "tools[0].function.name", "must be 1 to 64 characters"),
    ("tool_parameters_not_object", body(tools=[tool(name="f", parameters="{}")]), "tools[0].function.parameters", "must be an object"),
    ("tool_strict_not_boolean", body(tools=[tool(name="f", strict="yes")]), "tools[0].function.strict", "must be a boolean or null"),
    ("tool_choice_unknown_string", body(tool_choice="any"), "tool_choice", "must be one of: none, auto, required"),
    ("tool_choice_number", body(tool_choice=1), "tool_choice", "must be a string, an object or null"),
    ("tool_choice_object_without_function", body(tool_choice={"type": "function"}), "tool_choice.function", "required"),
    ("tool_choice_object_without_type", body(tool_choice={"function": {"name": "f"}}), "tool_choice.type", "required"),
    ("tool_choice_function_without_name", body(tool_choice={"type": "function", "function": {}}), "tool_choice.function.name", "required"),
    ("functions_item_without_name", body(functions=[{"description": "x"}]), "functions[0].name", "required"),
    ("function_call_number", body(function_call=3), "function_call", "must be a string, an object or null"),
    # --- response_format ---
    ("response_format_not_object", body(response_format="json"), "response_format", "must be an object or null"),
    ("response_format_type_missing", body(response_format={}), "response_format.type", "required"),
    ("response_format_type_unknown", body(response_format={"type": "xml"}), "response_format.type", "must be one of: text, json_object, json_schema, grammar, python, json"),
    ("json_schema_without_json_schema", body(response_format={"type": "json_schema"}), "response_format.json_schema", "required"),
    ("json_schema_not_object", body(response_format={"type": "json_schema", "json_schema": "x"}), "response_format.json_schema", "must be an object"),
    ("json_schema_without_name", body(response_format={"type": "json_schema", "json_schema": {"schema": {}}}), "response_format.json_schema.name", "required"),
    ("json_schema_name_too_long", body(response_format={"type": "json_schema", "json_schema": {"name": LONG_NAME}}), "response_format.json_schema.name", "must be at most 64 characters long"),
    ("json_schema_name_empty", body(response_format={"type": "json_schema", "json_schema": {"name": ""}}), "response_format.json_schema.name", "must not be empty"),
    ("json_schema_schema_not_object", body(response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": "{}"}}), "response_format.json_schema.schema", "must be an object"),
    ("json_schema_strict_not_boolean", body(response_format={"type": "json_schema", "json_schema": {"name": "n", "strict": "yes"}}), "response_format.json_schema.strict", "must be a boolean or null"),
    ("json_schema_description_not_string", body(response_format={"type": "json_schema", "json_schema": {"name": "n", "description": 1}}), "response_format.json_schema.description", "must be a string"),
    ("legacy_json_schema_not_object", body(response_format={"type": "json", "schema": []}), "response_format.schema", "must be an object"),
    ("legacy_json_name_not_string", body(response_format={"type": "json", "name": 5}), "response_format.name", "must be a string"),
    ("legacy_json_description_not_string", body(response_format={"type": "json", "description": False}), "response_format.description", "must be a string"),
    # --- provider ---
    ("provider_not_object", body(provider="openai"), "provider", "must be an object or null"),
    ("provider_unknown_field_typo", body(provider={"orderr": ["openai"]}), "provider.orderr", "unknown field; did you mean 'order'?"),
    ("provider_unknown_field", body(provider={"region": "eu"}), "provider.region", "unknown field (allowed: allow_fallbacks,"),
    ("provider_order_not_array", body(provider={"order": "openai"}), "provider.order", "must be an array or null"),
    ("provider_order_item_not_string", body(provider={"order": [1]}), "provider.order[0]", "must be a string"),
    ("provider_allow_fallbacks_not_boolean", body(provider={"allow_fallbacks": "no"}), "provider.allow_fallbacks", "must be a boolean or null"),
    ("provider_data_collection_unknown", body(provider={"data_collection": "maybe"}), "provider.data_collection", "must be one of: allow, deny, null"),
    ("provider_data_collection_number", body(provider={"data_collection": 0}), "provider.data_collection", "must be a string or null"),
    ("provider_quantization_unknown", body(provider={"quantizations": ["fp8", "int3"]}), "provider.quantizations[1]", "must be one of: int4, int8"),
    ("provider_sort_unknown", body(provider={"sort": "cheapest"}), "provider.sort", "must be one of: price, throughput, latency, exacto"),
    ("provider_sort_by_unknown", body(provider={"sort": {"by": "cost"}}), "provider.sort.by", "must be one of: price"),
    ("provider_sort_partition_unknown", body(provider={"sort": {"by": "price", "partition": "all"}}), "provider.sort.partition", "must be one of: model, none, null"),
    ("provider_only_not_array", body(provider={"only": "openai"}), "provider.only", "must be an array or null"),
    ("provider_ignore_item_not_string", body(provider={"ignore": [None]}), "provider.ignore[0]", "must be a string"),
    ("provider_max_price_not_object", body(provider={"max_price": 1}), "provider.max_price", "must be an object or null"),
    ("provider_max_price_prompt_not_number", body(provider={"max_price": {"prompt": [1]}}), "provider.max_price.prompt", "must be a number, a string or null"),
    ("provider_min_throughput_string", body(provider={"preferred_min_throughput": "fast"}), "provider.preferred_min_throughput", "must be a number, an object or null"),
    ("provider_max_latency_p90_string", body(provider={"preferred_max_latency": {"p90": "1s"}}), "provider.preferred_max_latency.p90", "must be a number or null"),
    ("provider_zdr_not_boolean", body(provider={"zdr": 1}), "provider.zdr", "must be a boolean or null"),
    # --- router extras ---
    ("models_not_array", body(models="openai/gpt-4o"), "models", "must be an array or null"),
    ("models_item_not_string", body(models=["a", 2]), "models[1]", "must be a string"),
    ("route_unknown", body(route="primary"), "route", "must be one of: fallback, sort, null"),
    ("transforms_item_not_string", body(transforms=[{"name": "middle-out"}]), "transforms[0]", "must be a string"),
    ("prediction_without_content", body(prediction={"type": "content"}), "prediction.content", "required"),
    ("prediction_wrong_type", body(prediction={"type": "text", "content": "x"}), "prediction.type", 'must be "content"'),
    ("reasoning_effort_unknown", body(reasoning={"effort": "extreme"}), "reasoning.effort", "must be one of: max, xhigh, high, medium, low, minimal, none"),
    ("reasoning_max_tokens_fraction", body(reasoning={"max_tokens": 1.5}), "reasoning.max_tokens", "must be an integer"),
    ("reasoning_effort_and_max_tokens", body(reasoning={"effort": "high", "max_tokens": 2000}), "reasoning.max_tokens", "cannot be used together with effort"),
    ("reasoning_exclude_not_boolean", body(reasoning={"exclude": "yes"}), "reasoning.exclude", "must be a boolean or null"),
    ("usage_include_not_boolean", body(usage={"include": "yes"}), "usage.include", "must be a boolean or null"),
    ("plugins_not_array", body(plugins={"id": "web"}), "plugins", "must be an array or null"),
    # --- messages by role ---
    ("message_not_object", messages("Hi"), "messages[0]", "each message must be an object"),
    ("message_role_missing", messages({"content": "Hi"}), "messages[0].role", "required"),
    ("message_role_unknown", messages({"role": "bot", "content": "Hi"}), "messages[0].role", "must be one of: system, developer, user, assistant, tool"),
    ("message_role_not_string", messages({"role": 1, "content": "Hi"}), "messages[0].role", "must be a string"),
    ("system_content_missing", messages({"role": "system"}, USER), "messages[0].content", "required"),
    ("system_content_image_part", messages({"role": "system", "content": [image(url=PNG)]}, USER), "messages[0].content[0].type", 'must be "text"'),
    ("system_content_empty_array", messages({"role": "system", "content": []}, USER), "messages[0].content", "must not be empty"),
    ("developer_content_number", messages({"role": "developer", "content": 5}, USER), "messages[0].content", "must be a string or an array"),
    ("user_content_missing", messages({"role": "user"}), "messages[0].content", "required"),
    ("user_content_null", messages({"role": "user", "content": None}), "messages[0].content", "must be a string or an array"),
    ("user_content_empty_array", messages({"role": "user", "content": []}), "messages[0].content", "must not be empty"),
    ("user_name_not_string", messages({"role": "user", "content": "Hi", "name": 7}), "messages[0].name", "must be a string"),
    ("assistant_tool_calls_not_array", messages(USER, {"role": "assistant", "content": None, "tool_calls": TOOL_CALL}), "messages[1].tool_calls", "must be an array"),
    ("assistant_tool_call_without_id", messages(USER, {"role": "assistant", "tool_calls": [call(id=...)]}), "messages[1].tool_calls[0].id", "required"),
    ("assistant_tool_call_without_type", messages(USER, {"role": "assistant", "tool_calls": [call(type=...)]}), "messages[1].tool_calls[0].type", "required"),
    ("assistant_tool_call_wrong_type", messages(USER, {"role": "assistant", "tool_calls": [call(type="tool")]}), "messages[1].tool_calls[0].type", 'must be "function"'),
    ("assistant_tool_call_without_function", messages(USER, {"role": "assistant", "tool_calls": [call(function=...)]}), "messages[1].tool_calls[0].function", "required"),
    ("assistant_tool_call_without_name", messages(USER, {"role": "assistant", "tool_calls": [fn_call(arguments="{}")]}), "messages[1].tool_calls[0].function.name", "required"),
    ("assistant_tool_call_without_arguments", messages(USER, {"role": "assistant", "tool_calls": [fn_call(name="f")]}), "messages[1].tool_calls[0].function.arguments", "required"),
    ("assistant_tool_call_arguments_object", messages(USER, {"role": "assistant", "tool_calls": [fn_call(name="f", arguments={"city": "Paris"})]}), "messages[1].tool_calls[0].function.arguments", "must be a string (the arguments JSON-encoded)"),
    ("tool_message_without_tool_call_id", messages(USER, {"role": "assistant", "tool_calls": [TOOL_CALL]}, {"role": "tool", "content": "21"}), "messages[2].tool_call_id", "required"),
    ("tool_message_tool_call_id_not_string", messages(USER, {"role": "tool", "tool_call_id": 1, "content": "21"}), "messages[1].tool_call_id", "must be a string"),
    ("tool_message_without_content", messages(USER, {"role": "tool", "tool_call_id": "call_abc123"}), "messages[1].content", "required"),
    # --- content parts by type ---
    ("part_not_object", user_parts("Hi"), "messages[0].content[0]", "each content part must be an object"),
    ("part_type_missing", user_parts({"text": "Hi"}), "messages[0].content[0].type", "required"),
    ("part_type_unknown", user_parts({"type": "audio", "audio": {}}), "messages[0].content[0].type", "must be one of: text, image_url, file, input_audio, video_url, input_video"),
    ("text_part_without_text", user_parts({"type": "text"}), "messages[0].content[0].text", "required"),
    ("text_part_text_not_string", user_parts({"type": "text", "text": ["Hi"]}), "messages[0].content[0].text", "must be a string"),
    ("image_part_without_image_url", user_parts({"type": "image_url", "url": PNG}), "messages[0].content[0].image_url", "required"),
    ("image_part_image_url_string", user_parts({"type": "image_url", "image_url": PNG}), "messages[0].content[0].image_url", "must be an object"),
    ("image_part_without_url", user_parts(image(detail="low")), "messages[0].content[0].image_url.url", "required"),
    ("image_part_url_not_http_or_data", user_parts(image(url="ftp://example.com/a.png")), "messages[0].content[0].image_url.url", "must be an http(s) URL or a data: URL"),
    ("image_part_detail_unknown", user_parts(image(url=PNG, detail="medium")), "messages[0].content[0].image_url.detail", "must be one of: auto, low, high, original"),
    ("file_part_without_file", user_parts({"type": "file", "file_data": "x"}), "messages[0].content[0].file", "required"),
    ("file_part_openai_shape_empty", user_parts(file(filename="doc.pdf")), "messages[0].content[0].file.file_data", "required (or file_id, or data with media_type)"),
    ("file_part_openai_file_data_not_string", user_parts(file(file_data=5)), "messages[0].content[0].file.file_data", "must be a string"),
    ("file_part_openai_file_id_not_string", user_parts(file(file_id=5)), "messages[0].content[0].file.file_id", "must be a string"),
    ("file_part_gateway_without_media_type", user_parts(file(data="JVBERi0x", filename="doc.pdf")), "messages[0].content[0].file.media_type", "required (the gateway file shape needs both data and media_type)"),
    ("file_part_gateway_without_data", user_parts(file(media_type="application/pdf", filename="doc.pdf")), "messages[0].content[0].file.data", "required"),
    ("file_part_gateway_filename_not_string", user_parts(file(data="JVBERi0x", media_type="application/pdf", filename=1)), "messages[0].content[0].file.filename", "must be a string"),
    ("audio_part_without_input_audio", user_parts({"type": "input_audio"}), "messages[0].content[0].input_audio", "required"),
    ("audio_part_without_format", user_parts(audio(data="UklGRg==")), "messages[0].content[0].input_audio.format", "required"),
    ("audio_part_without_data", user_parts(audio(format="wav")), "messages[0].content[0].input_audio.data", "required"),
    ("audio_part_format_unknown", user_parts(audio(data="UklGRg==", format="midi")), "messages[0].content[0].input_audio.format", "must be one of: wav, mp3"),
    ("video_part_without_video_url", user_parts({"type": "video_url"}), "messages[0].content[0].video_url", "required"),
    ("video_part_without_url", user_parts({"type": "video_url", "video_url": {}}), "messages[0].content[0].video_url.url", "required"),
    ("video_part_url_not_http_or_data", user_parts({"type": "video_url", "video_url": {"url": "clip.mp4"}}), "messages[0].content[0].video_url.url", "must be an http(s) URL or a data: URL"),
    ("legacy_video_part_without_video_url", user_parts({"type": "input_video", "url": "https://x.test/a.mp4"}), "messages[0].content[0].video_url", "required"),
    ("assistant_part_unknown_type", messages(USER, {"role": "assistant", "content": [{"type": "thinking"}]}), "messages[1].content[0].type", "must be one of: text"),
]  # fmt: skip

# Shapes the router's spec accepts only in part: still a 400, each naming its field.
SPEC_INVALID_CASES: list[tuple[str, Any, str, str]] = [
    ("server_tool_shell", body(tools=[{"type": "openrouter:shell"}]), "tools[0].type", "must be one of: function, openrouter:web_search"),
    ("server_tool_search", body(tools=[{"type": "openrouter:tool_search"}]), "tools[0].type", "must be one of"),
    ("server_tool_parameters_not_object", body(tools=[{"type": "openrouter:datetime", "parameters": "UTC"}]), "tools[0].parameters", "must be an object"),
    ("server_tool_web_search_engine_unknown", body(tools=[{"type": "openrouter:web_search", "parameters": {"engine": "bing"}}]), "tools[0].parameters.engine", "must be one of: native, exa"),
    ("web_search_shorthand_context_size_unknown", body(tools=[{"type": "web_search", "search_context_size": "huge"}]), "tools[0].search_context_size", "must be one of: low, medium, high"),
    ("function_tool_cache_control_type", body(tools=[{**WEATHER_TOOL, "cache_control": {"type": "persistent"}}]), "tools[0].cache_control.type", 'must be "ephemeral"'),
    ("tool_choice_server_type_not_string", body(tool_choice={"type": 3}), "tool_choice.type", "must be a string"),
    ("grammar_without_grammar", body(response_format={"type": "grammar"}), "response_format.grammar", "required"),
    ("grammar_not_string", body(response_format={"type": "grammar", "grammar": ["root ::= x"]}), "response_format.grammar", "must be a string"),
    ("reasoning_effort_shorthand_unknown", body(reasoning_effort="extreme"), "reasoning_effort", "must be one of: max, xhigh"),
    ("reasoning_effort_differs", body(reasoning_effort="high", reasoning={"effort": "low"}), "reasoning_effort", "must equal reasoning.effort ('low')"),
    ("reasoning_summary_unknown", body(reasoning={"summary": "long"}), "reasoning.summary", "must be one of: auto, concise, detailed"),
    ("prompt_cache_key_not_string", body(prompt_cache_key=42), "prompt_cache_key", "must be a string or null"),
    ("prompt_cache_options_without_mode", body(prompt_cache_options={"ttl": "1h"}), "prompt_cache_options.mode", "required"),
    ("prompt_cache_options_mode_unknown", body(prompt_cache_options={"mode": "implicit"}), "prompt_cache_options.mode", 'must be "explicit"'),
    ("cache_control_without_type", body(cache_control={"ttl": "5m"}), "cache_control.type", "required"),
    ("cache_control_ttl_unknown", body(cache_control={"type": "ephemeral", "ttl": "2h"}), "cache_control.ttl", "must be one of: 5m, 1h"),
    ("text_part_cache_control_ttl_unknown", user_parts({"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral", "ttl": "1d"}}), "messages[0].content[0].cache_control.ttl", "must be one of: 5m, 1h"),
    ("text_part_breakpoint_mode_unknown", user_parts({"type": "text", "text": "Hi", "prompt_cache_breakpoint": {"mode": "auto"}}), "messages[0].content[0].prompt_cache_breakpoint.mode", 'must be "explicit"'),
    ("image_config_value_boolean", body(image_config={"aspect_ratio": True}), "image_config.aspect_ratio", "must be a string, a number or an array"),
    ("stop_server_tools_when_empty", body(stop_server_tools_when=[]), "stop_server_tools_when", "must not be empty"),
    ("stop_condition_type_unknown", body(stop_server_tools_when=[{"type": "never"}]), "stop_server_tools_when[0].type", "must be one of: step_count_is"),
    ("stop_condition_without_step_count", body(stop_server_tools_when=[{"type": "step_count_is"}]), "stop_server_tools_when[0].step_count", "required"),
    ("stop_condition_empty_tool_name", body(stop_server_tools_when=[{"type": "has_tool_call", "tool_name": ""}]), "stop_server_tools_when[0].tool_name", "must not be empty"),
    ("trace_id_not_string", body(trace={"trace_id": 7}), "trace.trace_id", "must be a string"),
    ("max_tool_calls_over_30", body(max_tool_calls=31), "max_tool_calls", "must be at most 30"),
    ("session_id_too_long", body(session_id="s" * 257), "session_id", "must be at most 256 characters long"),
    ("service_tier_unknown", body(service_tier="premium"), "service_tier", "must be one of: auto, default, fast"),
    ("verbosity_unknown", body(verbosity="chatty"), "verbosity", "must be one of: low, medium, high, xhigh, max"),
    ("metadata_value_not_string", body(metadata={"team": 7}), "metadata.team", "must be a string"),
    ("web_search_options_context_size_unknown", body(web_search_options={"search_context_size": "max"}), "web_search_options.search_context_size", "must be one of: low, medium, high"),
    ("include_reasoning_not_boolean", body(include_reasoning="yes"), "include_reasoning", "must be a boolean or null"),
    ("tool_message_part_without_type", messages(USER, {"role": "tool", "tool_call_id": "c", "content": [{"text": "22C"}]}), "messages[1].content[0].type", "required"),
    ("tool_message_empty_parts", messages(USER, {"role": "tool", "tool_call_id": "c", "content": []}), "messages[1].content", "must not be empty"),
    ("assistant_images_without_image_url", messages(USER, {"role": "assistant", "images": [{"url": PNG}]}), "messages[1].images[0].image_url", "required"),
]  # fmt: skip
INVALID_CASES += SPEC_INVALID_CASES


# --- valid requests ------------------------------------------------------------------------

SEED_QUESTION = {"role": "user", "content": "What is the meaning of life?"}
SEED_MODEL = "claude-3-5-sonnet@20240620"

# /work/shared/protocol-examples/request_basic.json, copied so the tests stand alone.
REQUEST_BASIC: dict[str, Any] = {"model": SEED_MODEL, "messages": [SEED_QUESTION], "stream": False}

# /work/shared/protocol-examples/request_full.json (= PROTOCOL §2.5), copied likewise.
REQUEST_FULL: dict[str, Any] = {
    "model": "openai/gpt-4o",
    "stream": True,
    "temperature": 0.7,
    "top_p": 1,
    "max_tokens": 256,
    "seed": 42,
    "stop": ["\n\nUser:"],
    "tool_choice": "auto",
    "parallel_tool_calls": True,
    "provider": {
        "order": ["openai", "azure"],
        "allow_fallbacks": True,
        "data_collection": "deny",
        "sort": "price",
    },
    "tools": [WEATHER_TOOL],
    "messages": [
        {"role": "system", "content": "You are terse."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Compare these."},
                {"type": "image_url", "image_url": {"url": PNG, "detail": "auto"}},
                {
                    "type": "file",
                    "file": {
                        "filename": "doc.pdf",
                        "file_data": "data:application/pdf;base64,JVBERi0x",
                    },
                },
                {
                    "type": "file",
                    "file": {
                        "data": "JVBERi0x",
                        "media_type": "application/pdf",
                        "filename": "doc.pdf",
                    },
                },
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {"type": "video_url", "video_url": {"url": "https://example.com/clip.mp4"}},
            ],
        },
        {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
        {"role": "tool", "tool_call_id": "call_abc123", "content": '{"temp_c":21}'},
        {"role": "assistant", "content": "Paris is"},
    ],
}

ALL_PROVIDER_FIELDS = {
    "order": ["openai"],
    "allow_fallbacks": False,
    "require_parameters": True,
    "data_collection": "allow",
    "zdr": True,
    "enforce_distillable_text": False,
    "only": ["openai", "azure"],
    "ignore": ["deepinfra"],
    "quantizations": ["int4", "int8", "fp4", "mxfp4", "nvfp4", "fp6", "fp8", "mxfp8", "fp16", "bf16", "fp32", "unknown"],
    "sort": {"by": "throughput", "partition": "model"},
    "preferred_min_throughput": {"p50": 100, "p90": 50.5},
    "preferred_max_latency": 2.5,
    "max_price": {"prompt": 1, "completion": "2.5", "image": 0.01, "audio": None, "request": 0},
}  # fmt: skip

WEB_SEARCH_CONFIG = {
    "engine": "exa", "mode": "deep", "max_results": 5, "max_total_results": 20, "max_uses": 3,
    "max_characters": 2000, "search_context_size": "high", "allowed_domains": ["example.com"],
    "excluded_domains": ["spam.test"],
    "user_location": {"type": "approximate", "city": "Paris", "country": "FR", "region": None, "timezone": "Europe/Paris"},
}  # fmt: skip
# The spec's own examples of each server tool schema (spec schemas *ServerTool*).
SERVER_TOOLS = [
    {"type": "openrouter:web_search", "parameters": {"max_results": 5}},
    {"type": "openrouter:datetime", "parameters": {"timezone": "America/New_York"}},
    {"type": "openrouter:image_generation", "parameters": {"model": "openai/gpt-5-image", "quality": "high", "size": "1024x1024"}},
    {"type": "openrouter:web_fetch", "parameters": {"max_uses": 10}},
    {"type": "openrouter:fusion", "parameters": {"analysis_models": ["~anthropic/claude-opus-latest", "~openai/gpt-latest"]}},
    {"type": "openrouter:advisor", "parameters": {"model": "~anthropic/claude-opus-latest", "name": "reviewer"}},
    {"type": "openrouter:subagent", "parameters": {"model": "~anthropic/claude-haiku-latest"}},
    {"type": "openrouter:experimental__search_models", "parameters": {"max_results": 5}},
    {"type": "openrouter:bash", "parameters": {"environment": {"type": "container_auto"}}},
    {"type": "openrouter:files", "parameters": {}},
]  # fmt: skip
NULLABLE = [
    "frequency_penalty", "logit_bias", "logprobs", "max_completion_tokens", "max_tokens", "min_p",
    "parallel_tool_calls", "prediction", "presence_penalty", "prompt_cache_key",
    "prompt_cache_options", "provider", "reasoning_effort", "repetition_penalty", "route", "seed",
    "service_tier", "stop", "stream_options", "temperature", "top_a", "top_k", "top_logprobs",
    "top_p",
]  # fmt: skip

# Shapes of the router's spec (schema ChatRequest and the schemas it refers to, named per row)
# and of its docs (parameters, reasoning-tokens, server-tools): valid, in strict mode too.
SPEC_CASES: list[tuple[str, dict[str, Any]]] = [
    *((f"server_tool_{t['type'].split(':')[1]}", body(tools=[t])) for t in SERVER_TOOLS),
    ("server_tool_without_parameters", body(tools=[{"type": "openrouter:web_search"}])),
    ("server_tool_web_search_parameters", body(tools=[{"type": "openrouter:web_search", "parameters": WEB_SEARCH_CONFIG}])),  # OpenRouterWebSearchServerTool
    ("server_tool_datetime_parameters", body(tools=[{"type": "openrouter:datetime", "parameters": {"timezone": "Europe/Paris"}}])),  # DatetimeServerTool
    ("server_tool_beside_function", body(tools=[WEATHER_TOOL, {"type": "openrouter:web_search"}], tool_choice="required")),
    ("web_search_shorthand", body(tools=[{"type": "web_search"}])),  # ChatWebSearchShorthand
    ("web_search_shorthand_settings", body(tools=[{"type": "web_search_preview", **WEB_SEARCH_CONFIG}])),
    ("web_search_shorthand_dated", body(tools=[{"type": "web_search_2025_08_26", "parameters": {"max_results": 3}}, {"type": "web_search_preview_2025_03_11"}])),
    ("function_tool_cache_control", body(tools=[{**WEATHER_TOOL, "cache_control": {"type": "ephemeral", "ttl": "1h"}}])),  # ChatFunctionTool
    ("tool_choice_server_tool", body(tools=[{"type": "openrouter:web_search"}], tool_choice={"type": "openrouter:web_search"})),  # ChatServerToolChoice
    ("tool_choice_server_tool_without_tools", body(tool_choice={"type": "openrouter:datetime"})),
    ("tool_choice_named_beside_server_tool", body(tools=[{"type": "openrouter:datetime"}, WEATHER_TOOL], tool_choice={"type": "function", "function": {"name": "get_weather"}})),
    ("response_format_grammar", body(response_format={"type": "grammar", "grammar": 'root ::= "yes" | "no"'})),  # ChatFormatGrammarConfig
    ("response_format_python", body(response_format={"type": "python"})),  # ChatFormatPythonConfig
    ("response_format_json_schema_strict_null", body(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}, "strict": None}})),
    ("all_nullable_parameters_null", body(**dict.fromkeys(NULLABLE))),  # ChatRequest: type [..., "null"]
    ("reasoning_effort_shorthand", body(reasoning_effort="minimal")),
    ("reasoning_effort_equal_to_reasoning", body(reasoning_effort="high", reasoning={"effort": "high", "summary": "concise"})),
    ("reasoning_doc_fields", body(reasoning={"max_tokens": 1024, "exclude": False, "enabled": True, "context": "current_turn", "mode": "pro", "summary": "auto"})),
    ("include_reasoning", body(include_reasoning=True)),
    ("prompt_cache_key", body(prompt_cache_key="conversation-42")),
    ("prompt_cache_options", body(prompt_cache_options={"mode": "explicit", "ttl": "24h"})),  # PromptCacheOptions
    ("prompt_cache_options_ttl_null", body(prompt_cache_options={"mode": "explicit", "ttl": None})),
    ("cache_control", body(cache_control={"type": "ephemeral"})),  # AnthropicCacheControlDirective
    ("cache_control_ttl", body(cache_control={"type": "ephemeral", "ttl": "5m"})),
    ("image_config", body(image_config={"aspect_ratio": "16:9", "quality": 90, "sizes": [512, 1024]})),  # ImageConfig
    ("stop_server_tools_when", body(tools=[{"type": "openrouter:web_search"}], stop_server_tools_when=[
        {"type": "step_count_is", "step_count": 3}, {"type": "has_tool_call", "tool_name": "get_weather"},
        {"type": "max_tokens_used", "max_tokens": 4000}, {"type": "max_cost", "max_cost_in_dollars": 0.05},
        {"type": "finish_reason_is", "reason": "stop"}])),  # StopServerToolsWhen
    ("trace", body(trace={"trace_id": "t-1", "trace_name": "checkout", "span_name": "llm", "generation_name": "g", "parent_span_id": "p-1", "environment": "ci"})),  # TraceConfig
    ("route_sort", body(route="sort")),  # DeprecatedRoute
    ("service_tier_fast", body(service_tier="fast")),
    ("debug_echo_upstream_body", body(stream=True, debug={"echo_upstream_body": True})),  # ChatDebugOptions
    ("metadata_strings", body(metadata={"team": "qa", "run": "42"})),
    ("session_id_256", body(session_id="s" * 256)),
    ("doc_extras", body(verbosity="max", web_search_options={"search_context_size": "low"}, structured_outputs=True, preset="my-preset", max_tool_calls=30, usage={"include": True})),
    ("audio_output", body(modalities=["text", "audio"], audio={"voice": "alloy", "format": "wav"})),
    ("provider_passthrough", body(safe_prompt=True, raw_mode=False, x_search_filter={"sources": ["news"]})),
    ("text_part_cache_control", user_parts({"type": "text", "text": "Long context", "cache_control": {"type": "ephemeral", "ttl": "1h"}})),  # ChatContentText
    ("text_part_prompt_cache_breakpoint", messages({"role": "system", "content": [{"type": "text", "text": "Rules", "prompt_cache_breakpoint": {"mode": "explicit"}}]}, USER)),
    ("tool_message_parts", messages(USER, {"role": "assistant", "tool_calls": [TOOL_CALL]}, {"role": "tool", "tool_call_id": "call_abc123", "content": [{"type": "text", "text": "22C"}, image(url=PNG)]})),  # ChatToolMessage
    ("assistant_role_only", messages(USER, {"role": "assistant"}, USER)),  # ChatAssistantMessage: only role required
    ("assistant_null_content", messages(USER, {"role": "assistant", "content": None}, USER)),
    ("assistant_null_content_empty_tool_calls", messages(USER, {"role": "assistant", "content": None, "tool_calls": []}, USER)),
    ("assistant_history_fields", messages(USER, {"role": "assistant", "content": "Here", "reasoning_content": "thinking", "images": [{"image_url": {"url": PNG}}], "audio": {"id": "a1"}, "model": "openai/gpt-4o"}, USER)),
]  # fmt: skip

# (id, body)
VALID_CASES: list[tuple[str, dict[str, Any]]] = [
    # Seeds 000, 001, 004: "Basic chat completion" (Python and TypeScript examples).
    ("seed_basic_non_streaming", copy.deepcopy(REQUEST_BASIC)),
    # Seeds 000, 001, 004: "Streaming chat completion".
    ("seed_streaming", {"model": SEED_MODEL, "messages": [SEED_QUESTION], "stream": True}),
    # Seed 002: quick start, requests/fetch/curl examples (no stream key).
    ("seed_quick_start", {"model": SEED_MODEL, "messages": [SEED_QUESTION]}),
    # Seed 002: "Assistant Prefill" (the model placeholder is sent as is).
    (
        "seed_assistant_prefill",
        {
            "model": "{{MODEL}}",
            "messages": [
                SEED_QUESTION,
                {"role": "assistant", "content": "I'm not sure, but my best guess is"},
            ],
        },
    ),
    # Seed 001: "Message format", the three message examples.
    ("seed_text_message", messages({"role": "user", "content": "Hello, how are you?"})),
    (
        "seed_multimodal_message",
        user_parts(
            {"type": "text", "text": "What's in this image?"},
            image(url="data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD..."),
        ),
    ),
    (
        "seed_file_message",
        user_parts(
            {"type": "text", "text": "Summarize this document"},
            file(
                data="JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PAovVHlwZSAvUGFnZQo...",
                media_type="application/pdf",
                filename="document.pdf",
            ),
        ),
    ),
    # Seeds 000, 001, 004: the three documented response_format forms.
    (
        "seed_response_format_json_schema",
        body(
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "answer",
                    "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                    "strict": True,
                    "description": "The answer",
                },
            }
        ),
    ),
    ("seed_response_format_legacy_json", body(response_format={"type": "json"})),
    (
        "seed_response_format_legacy_json_full",
        body(response_format={"type": "json", "schema": {"type": "object"}, "name": "a", "description": "d"}),
    ),
    ("seed_response_format_text", body(response_format={"type": "text"})),
    ("response_format_json_object", body(response_format={"type": "json_object"})),
    # Seed 004 / PROTOCOL §2.4: provider routing.
    ("seed_provider_order", body(model="anthropic/claude-3.5-sonnet", provider={"order": ["anthropic"], "allow_fallbacks": False})),
    # protocol-examples/request_*.json
    ("protocol_request_basic", copy.deepcopy(REQUEST_BASIC)),
    ("protocol_request_full", copy.deepcopy(REQUEST_FULL)),
    # --- the rest of PROTOCOL §2, one feature per row ---
    ("prompt_instead_of_messages", {"model": MODEL, "prompt": "Once upon a time"}),
    (
        "range_boundaries_inclusive",
        body(
            temperature=2,
            top_p=0,
            top_k=0,
            frequency_penalty=-2,
            presence_penalty=2,
            repetition_penalty=0,
            min_p=1,
            top_a=0,
            max_tokens=1,
            max_completion_tokens=1,
            n=128,
            logprobs=True,
            top_logprobs=20,
            logit_bias={"50256": -100, "15339": 100},
            stop=["a", "b", "c", "d"],
        ),
    ),
    ("range_boundaries_other_ends", body(temperature=0, top_p=1, n=1, top_logprobs=0, logprobs=True)),
    ("integer_valued_float", body(n=2.0, max_tokens=100.0, seed=7.0)),
    (
        "optional_params_null",
        body(
            temperature=None, top_p=None, stop=None, n=None, max_tokens=None, seed=None,
            tools=None, tool_choice=None, response_format=None, provider=None, stream=None,
            stream_options=None, logit_bias=None, user=None, reasoning=None, prediction=None,
        ),
    ),
    ("stop_as_string", body(stop="\n")),
    ("stream_with_options", body(stream=True, stream_options={"include_usage": True})),
    ("tool_choice_required", body(tools=[WEATHER_TOOL], tool_choice="required")),
    ("tool_choice_none", body(tools=[WEATHER_TOOL], tool_choice="none")),
    (
        "tool_choice_named",
        body(tools=[WEATHER_TOOL], tool_choice={"type": "function", "function": {"name": "get_weather"}}),
    ),
    ("tool_without_parameters", body(tools=[tool(name="now-utc_2")], parallel_tool_calls=False)),
    ("tool_name_64_chars", body(tools=[tool(name="a" * 64, strict=True, parameters={})])),
    (
        "deprecated_functions",
        body(functions=[{"name": "get_weather", "parameters": {}}], function_call={"name": "get_weather"}),
    ),
    (
        "every_role",
        messages(
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}], "name": "sys"},
            {"role": "developer", "content": "Use metric units."},
            {"role": "user", "content": "Weather in Paris?", "name": "alice"},
            {"role": "assistant", "tool_calls": [TOOL_CALL]},
            {"role": "tool", "tool_call_id": "call_abc123", "name": "get_weather", "content": [{"type": "text", "text": "21C"}]},
            {"role": "assistant", "content": "21C.", "refusal": None, "reasoning": "easy", "reasoning_details": []},
            {"role": "user", "content": "Thanks", "cache_control": {"type": "ephemeral"}},
        ),
    ),
    (
        "every_part_type",
        user_parts(
            {"type": "text", "text": "Look", "cache_control": {"type": "ephemeral"}},
            image(url="https://example.com/a.png", detail="original"),
            image(url="HTTP://EXAMPLE.COM/B.PNG", detail="low"),
            file(file_id="file-abc123"),
            file(file_data="https://example.com/doc.pdf"),
            file(data="JVBERi0x", media_type="application/pdf"),
            audio(data="SUQz", format="mp3"),
            audio(data="UklGRg==", format="pcm24"),
            {"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAA"}},
            {"type": "input_video", "video_url": {"url": "https://youtu.be/abc"}},
        ),
    ),
    ("assistant_content_parts", messages(USER, {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]})),
    # A model some endpoint of which satisfies every preference (routing applies them).
    ("provider_every_field", body(model="openai/gpt-4o-mini", provider=ALL_PROVIDER_FIELDS)),
    ("provider_all_null", body(provider=dict.fromkeys(ALL_PROVIDER_FIELDS))),
    ("provider_sort_exacto", body(provider={"sort": "exacto", "preferred_min_throughput": 10})),
    (
        "router_extras",
        body(
            models=["anthropic/claude-3.5-sonnet", "openai/gpt-4o"],
            route="fallback",
            transforms=["middle-out"],
            usage={"include": True},
            plugins=[{"id": "web"}],
            debug={"echo_upstream_body": True},
            metadata={"team": "qa"},
            verbosity="low",
            service_tier="auto",
            modalities=["text"],
            session_id="s-1",
            user="user-123",
        ),
    ),
    ("prediction_string", body(prediction={"type": "content", "content": "def f():"})),
    ("prediction_parts", body(prediction={"type": "content", "content": [{"type": "text", "text": "x"}]})),
    ("reasoning_effort", body(reasoning={"effort": "xhigh", "exclude": True})),
    ("reasoning_max_tokens", body(reasoning={"max_tokens": 2000, "enabled": True})),
    ("reasoning_effort_with_null_max_tokens", body(reasoning={"effort": "none", "max_tokens": None})),
    ("unknown_top_level_keys_are_ignored", body(store=True, max_token=3)),
]  # fmt: skip
VALID_CASES += SPEC_CASES


# --- raw bodies for parse_json_body ---------------------------------------------------------

JSON = "application/json"


def nested(depth: int) -> bytes:
    """A JSON object whose containers nest `depth` levels deep (the object itself is level 1)."""
    return b'{"a":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def nested_lists(depth: int) -> list[Any]:
    """`depth` lists, each the only element of the one before."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


# (id, raw, Content-Type, expected message substring)
BAD_BODY_CASES: list[tuple[str, bytes, str | None, str]] = [
    ("empty", b"", JSON, "request body is empty"),
    ("whitespace_only", b" \r\n\t", JSON, "request body is empty"),
    ("empty_without_content_type", b"", None, "request body is empty"),
    ("content_type_missing", b"{}", None, "Content-Type must be application/json"),
    ("content_type_empty", b"{}", "", "Content-Type must be application/json"),
    ("content_type_text_plain", b"{}", "text/plain", "Content-Type must be application/json"),
    ("content_type_form", b"a=1", "application/x-www-form-urlencoded", "Content-Type must be application/json"),
    ("content_type_json_lookalike", b"{}", "text/json", "Content-Type must be application/json"),
    ("invalid_utf8", b'{"a": "\xff"}', JSON, "request body is not valid UTF-8"),
    ("latin1_bytes", '{"a": "caf\u00e9"}'.encode("latin-1"), JSON, "request body is not valid UTF-8"),
    ("truncated", b'{"model": "m",', JSON, "request body is not valid JSON"),
    ("truncated_names_line_and_column", b'{\n  "model": }', JSON, "line 2, column 12"),
    ("trailing_garbage", b"{} {}", JSON, "request body is not valid JSON: Extra data"),
    ("single_quotes", b"{'model': 'm'}", JSON, "request body is not valid JSON"),
    ("trailing_comma", b'{"model": "m",}', JSON, "request body is not valid JSON"),
    ("nan", b'{"temperature": NaN}', JSON, "is not valid JSON (NaN/Infinity are not allowed"),
    ("infinity", b'{"temperature": Infinity}', JSON, "is not valid JSON (NaN/Infinity are not allowed"),
    ("minus_infinity", b'{"temperature": -Infinity}', JSON, "is not valid JSON (NaN/Infinity are not allowed"),
    ("huge_integer", b'{"seed": ' + b"9" * 5000 + b"}", JSON, "number too large to represent (more than 4300 digits)"),
    ("float_overflow", b'{"temperature": 1e400}', JSON, "number too large to represent: 1e400"),
    ("negative_float_overflow", b'{"metadata": {"x": -1E+999}}', JSON, "number too large to represent: -1E+999"),
    ("lone_high_surrogate", b'{"messages": [{"content": "cut \\ud83d"}]}', JSON, "not valid Unicode: messages[0].content has an unpaired surrogate \\ud83d"),
    ("lone_low_surrogate_in_key", b'{"metadata": {"\\uDC00": 1}}', JSON, "not valid Unicode: metadata has a key with an unpaired surrogate \\udc00"),
    ("reversed_surrogate_pair", b'{"model": "\\ude00\\ud83d"}', JSON, "not valid Unicode: model has an unpaired surrogate \\ude00"),
    ("array", b"[]", JSON, "request body must be a JSON object, got array"),
    ("string", b'"hi"', JSON, "request body must be a JSON object, got string"),
    ("number", b"42", JSON, "request body must be a JSON object, got number"),
    ("boolean", b"true", JSON, "request body must be a JSON object, got boolean"),
    ("null", b"null", JSON, "request body must be a JSON object, got null"),
    ("nested_one_too_deep", nested(65), JSON, "nested too deeply"),
    ("nested_far_too_deep", b"[" * 200_000 + b"]" * 200_000, JSON, "nested too deeply"),
    ("object_nested_far_too_deep", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, JSON, "nested too deeply"),
]  # fmt: skip

# (id, raw, Content-Type, expected value)
GOOD_BODY_CASES: list[tuple[str, bytes, str | None, dict[str, Any]]] = [
    ("plain", b'{"model": "m"}', JSON, {"model": "m"}),
    ("charset_utf8", b'{"model": "m"}', "application/json; charset=utf-8", {"model": "m"}),
    ("upper_case_media_type", b'{"model": "m"}', "Application/JSON", {"model": "m"}),
    ("plus_json", b'{"model": "m"}', "application/vnd.api+json", {"model": "m"}),
    ("leading_whitespace", b'\n\n  {"model": "m"}\n', JSON, {"model": "m"}),
    ("byte_order_mark", b'\xef\xbb\xbf{"model": "m"}', JSON, {"model": "m"}),
    ("non_ascii", '{"content": "caf\u00e9 \U0001f600"}'.encode(), JSON, {"content": "caf\u00e9 \U0001f600"}),
    ("brackets_in_strings_do_not_count", b'{"a": "' + b"[" * 100 + b'"}', JSON, {"a": "[" * 100}),
    ("nested_at_limit", nested(64), JSON, {"a": nested_lists(63)}),
    ("escaped_surrogate_pair", b'{"a": "\\ud83d\\ude00"}', JSON, {"a": "\U0001f600"}),
    ("escaped_backslash_before_u", b'{"a": "\\\\ud800"}', JSON, {"a": "\\ud800"}),
    ("largest_double", b'{"a": 1.7976931348623157e308}', JSON, {"a": 1.7976931348623157e308}),
    ("underflow_is_zero", b'{"a": 1e-400}', JSON, {"a": 0.0}),
    ("integer_of_4300_digits", b'{"a": ' + b"9" * 4300 + b"}", JSON, {"a": int("9" * 4300)}),
]  # fmt: skip
