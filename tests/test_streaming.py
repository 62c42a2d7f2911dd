"""Issue 5, key by key: every `stream` key loaded from YAML, played on a real socket, and its raw
bytes checked exactly (framing, order, HTTP chunk boundaries) with timing checked by lower bounds
and generous upper bounds (the machine is shared and noisy)."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rawsse import (
    EARLY_MS,
    RawStream,
    chunk,
    error_chunk,
    last_entry,
    post,
    sse,
    stream_body,
    text_stream,
    usage,
    usage_chunk,
    waits,
)

from emulator import tokens
from emulator.journal import JournalEntry
from emulator.testing import EmulatorServer

SLACK_MS = 250.0  # generous upper-bound slack for anything timed
TEXT = "Once upon a time, in 北京\nthere lived a 🦊."
TEXT_YAML = '"Once upon a time, in 北京\\nthere lived a 🦊."'


@pytest.fixture(scope="module", autouse=True)
def warm(shared_server: EmulatorServer) -> None:
    """One stream first: the first request of a process loads the tokenizer (~0.5 s), which
    would otherwise eat the schedule of whichever timed test comes first."""
    shared_server.reset()
    post(shared_server.port)


def play(server: EmulatorServer, yaml_text: str, **body: Any) -> RawStream:
    """Load one scenario from YAML and stream a request against it, raw."""
    server.add(yaml_text)
    return post(server.port, stream_body(**body))


def reply(stream_yaml: str, content: str = TEXT_YAML, extra: str = "") -> str:
    """A one-scenario YAML document with `content` and an indented `stream` block."""
    block = "\n".join("    " + line for line in stream_yaml.strip().splitlines())
    return f"name: s\nreply:\n  content: {content}\n{extra}  stream:\n{block}\n"


def assert_not_before(times: list[float], schedule: list[float]) -> None:
    """Each event arrived no earlier than its scheduled time (absolute deadlines)."""
    assert len(times) == len(schedule)
    for got, due in zip(times, schedule, strict=False):
        assert got >= due - EARLY_MS, (times, schedule)


def cumulative(start: float, gaps: list[float]) -> list[float]:
    """Deadlines: `start` (the ttft, from the request), then one gap after another. The client's
    clock starts before the server's, so an arrival is never earlier than its deadline."""
    out = [start]
    for gap in gaps:
        out.append(out[-1] + gap)
    return out


# --- chunking and chunks ---------------------------------------------------------------------

CHUNKING = [
    ("words", ["Once", " upon", " a", " time,", " in", " 北京", "\nthere", " lived", " a", " 🦊."]),
    ("{words: 3}", ["Once upon a", " time, in 北京", "\nthere lived a", " 🦊."]),
    ("chars", list(TEXT)),
    ("{chars: 5}", ["Once ", "upon ", "a tim", "e, in", " 北京\nt", "here ", "lived", " a 🦊."]),
    (
        "tokens",
        [
            "Once",
            " upon",
            " a",
            " time",
            ",",
            " in",
            " 北京",
            "\n",
            "there",
            " lived",
            " a",
            " 🦊",
            ".",
        ],
    ),
    ("{tokens: 2}", ["Once upon", " a time", ", in", " 北京\n", "there lived", " a 🦊", "."]),
    ("lines", ["Once upon a time, in 北京\n", "there lived a 🦊."]),
    ("{lines: 2}", [TEXT]),
    ("none", [TEXT]),
]


@pytest.mark.parametrize("chunking,pieces", CHUNKING, ids=[c for c, _ in CHUNKING])
def test_chunking(server: EmulatorServer, chunking: str, pieces: list[str]) -> None:
    """Each chunking kind and size cuts the content into exactly these deltas, on the wire."""
    raw = play(server, reply(f"chunking: {chunking}"))
    expected = text_stream(raw.gen_id, pieces, tokens.count(TEXT))
    assert raw.end == "complete"
    assert raw.body == sse(expected)


def test_explicit_chunks(server: EmulatorServer) -> None:
    """`chunks` gives the content deltas one by one (and the content, when none is given)."""
    yaml_text = 'name: s\nreply:\n  stream:\n    chunks: ["Once", " upon", " a time"]\n'
    raw = play(server, yaml_text)
    pieces = ["Once", " upon", " a time"]
    assert raw.body == sse(text_stream(raw.gen_id, pieces, tokens.count("Once upon a time")))


def test_chunks_with_matching_content(server: EmulatorServer) -> None:
    """`chunks` next to a content that they join up to: the chunks are the deltas."""
    raw = play(server, reply('chunks: ["Once", " upon", " a time"]', '"Once upon a time"'))
    pieces = ["Once", " upon", " a time"]
    assert raw.body == sse(text_stream(raw.gen_id, pieces, tokens.count("Once upon a time")))


# --- timing: ttft, intervals, keepalive, wait_ms ----------------------------------------------


def test_ttft_ms(server: EmulatorServer) -> None:
    """ttft_ms 300: the comment comes at once, the first content at 300 ms (not before)."""
    raw = play(server, reply("ttft_ms: 300\nchunking: none"))
    (t_comment, comment), (t_role, _), (t_first, first), *_ = raw.timed_events()
    assert comment == ": OPENROUTER PROCESSING" and '"content":"Once' in first
    assert 300 - EARLY_MS <= t_first <= 300 + SLACK_MS
    assert t_role <= t_first and t_comment < t_first - 150
    assert waits(last_entry(server)) == [300.0]


def test_interval_fixed(server: EmulatorServer) -> None:
    """interval_ms 100: content chunk i arrives no earlier than i x 100 ms after the first."""
    raw = play(server, reply('chunks: ["a", "b", "c", "d"]\ninterval_ms: 100', '"abcd"'))
    times = raw.content_times()
    assert_not_before(times, cumulative(0.0, [100, 100, 100]))
    assert times[-1] - times[0] <= 300 + SLACK_MS
    assert waits(last_entry(server)) == [100.0] * 3


def test_interval_jitter_is_seeded_and_bounded(server: EmulatorServer) -> None:
    """interval_ms {min, max}: every gap drawn in [min, max], not all equal, honoured on the wire."""
    raw = play(server, reply("chunking: {chars: 4}\ninterval_ms: {min: 20, max: 80}"))
    gaps = waits(last_entry(server))
    assert len(gaps) == len(raw.content_times()) - 1 == 9
    assert all(20 <= g <= 80 for g in gaps) and len(set(gaps)) > 1
    times = raw.content_times()
    assert_not_before(times, cumulative(0.0, gaps))


def test_interval_list_one_per_gap(server: EmulatorServer) -> None:
    """interval_ms as a list: gap i before chunk i+1; the last value repeats when it runs out."""
    yaml_text = reply('chunks: ["a", "b", "c", "d", "e"]\ninterval_ms: [50, 150, 10]', '"abcde"')
    raw = play(server, yaml_text)
    assert waits(last_entry(server)) == [50.0, 150.0, 10.0, 10.0]
    times = raw.content_times()
    assert_not_before(times, cumulative(0.0, [50, 150, 10, 10]))


def test_keepalive_comments_while_first_chunk_pending(server: EmulatorServer) -> None:
    """keepalive {text, every_ms}: the comment right after the headers and every 100 ms of ttft."""
    raw = play(
        server, reply('ttft_ms: 350\nkeepalive: {text: "PING", every_ms: 100}\nchunking: none')
    )
    expected = text_stream(raw.gen_id, [TEXT], tokens.count(TEXT), comments=("PING",) * 4)
    assert raw.body == sse(expected)
    timed = raw.timed_events()
    assert_not_before([t for t, _ in timed[:5]], [0, 100, 200, 300, 350])
    assert waits(last_entry(server)) == [100.0, 100.0, 100.0, 50.0]


def test_wait_ms_event(server: EmulatorServer) -> None:
    """events wait_ms: the next event waits that long; the earlier one is not held back."""
    raw = play(
        server,
        "name: s\nreply:\n  stream:\n    events:\n"
        "      - comment: a\n      - wait_ms: 200\n      - comment: b\n",
    )
    (t_a, a), (t_b, b) = raw.timed_events()
    assert (a, b) == (": a", ": b")
    assert t_b >= 200 - EARLY_MS and t_b <= 200 + SLACK_MS and t_a < t_b - 150


# --- faults: error_after, disconnect_after, done ------------------------------------------------

ERROR_YAML = (
    '{code: 502, message: "Provider returned error", '
    'metadata: {provider_name: X, raw: "upstream connection reset"}}'
)
ERROR_JSON = {
    "code": 502,
    "message": "Provider returned error",
    "metadata": {
        "error_type": "provider_unavailable",
        "provider_name": "X",
        "raw": "upstream connection reset",
    },
}


@pytest.mark.parametrize("done", [True, False])
def test_error_after(server: EmulatorServer, done: bool) -> None:
    """error_after 3: three content chunks, the router's in-band error event, [DONE] unless done false."""
    stream = f"chunking: words\nerror_after: 3\nerror: {ERROR_YAML}\ndone: {str(done).lower()}"
    raw = play(server, reply(stream, '"a b c d e"'))
    gid = raw.gen_id
    expected = [
        ": OPENROUTER PROCESSING",
        "data: " + chunk(gid, {"role": "assistant", "content": ""}),
        *("data: " + chunk(gid, {"content": p}) for p in ["a", " b", " c"]),
        "data: " + error_chunk(gid, ERROR_JSON),
        *(["data: [DONE]"] if done else []),
    ]
    assert raw.body == sse(expected) and raw.end == "complete"


def test_error_after_default_error(server: EmulatorServer) -> None:
    """error_after without `error`: the router's usual 502 "Provider returned error"."""
    raw = play(server, reply("error_after: 1", '"a b"'))
    error = raw.data()[-2]["error"]
    assert error["code"] == 502 and error["message"] == "Provider returned error"


def test_disconnect_after(server: EmulatorServer) -> None:
    """disconnect_after 2: two content chunks, then the connection closes with no terminator."""
    raw = play(server, reply("chunking: words\ndisconnect_after: 2", '"a b c d e"'))
    gid = raw.gen_id
    expected = [
        ": OPENROUTER PROCESSING",
        "data: " + chunk(gid, {"role": "assistant", "content": ""}),
        "data: " + chunk(gid, {"content": "a"}),
        "data: " + chunk(gid, {"content": " b"}),
    ]
    assert raw.body == sse(expected)
    assert raw.end in ("eof", "reset")  # never the chunked terminator
    assert last_entry(server).outcome == "dropped"


def test_done_false(server: EmulatorServer) -> None:
    """done: false ends cleanly (chunked terminator) right after the usage chunk, without [DONE]."""
    raw = play(server, reply("chunking: none\ndone: false"))
    assert raw.body == sse(text_stream(raw.gen_id, [TEXT], tokens.count(TEXT), done=False))
    assert raw.end == "complete"


@pytest.mark.parametrize("shape", ["empty_choices", "openrouter", "none"])
def test_usage_chunk_shapes(server: EmulatorServer, shape: str) -> None:
    """usage_chunk: each shape of decision D1 (or none), right before [DONE]."""
    raw = play(server, reply(f"chunking: none\nusage_chunk: {shape}"))
    assert raw.body == sse(text_stream(raw.gen_id, [TEXT], tokens.count(TEXT), shape=shape))


# --- hand-written timelines: every event kind ----------------------------------------------------

ROLE = {"role": "assistant"}
EVENTS: list[tuple[str, str, Callable[[str], list[str]]]] = [
    (
        "comment",
        '[{comment: "hello"}, {comment: "OPENROUTER PROCESSING"}]',
        lambda g: [": hello", ": OPENROUTER PROCESSING"],
    ),
    (
        "content",
        '[{content: "Hel"}, {content: "lo"}]',
        lambda g: [
            "data: " + chunk(g, {**ROLE, "content": "Hel"}),
            "data: " + chunk(g, {"content": "lo"}),
        ],
    ),
    (
        "reasoning",
        '[{reasoning: "Let me think."}, {content: "Hi"}]',
        lambda g: [
            "data: " + chunk(g, {**ROLE, "reasoning": "Let me think."}),
            "data: " + chunk(g, {"content": "Hi"}),
        ],
    ),
    (
        "refusal",
        '[{refusal: "I can not help with that."}]',
        lambda g: ["data: " + chunk(g, {**ROLE, "refusal": "I can not help with that."})],
    ),
    (
        "tool_call",
        """
      - tool_call: {index: 0, id: call_1, name: get_weather, arguments: '{"ci'}
      - tool_call: {index: 0, arguments: 'ty":"Paris"}'}""",
        lambda g: [
            "data: "
            + chunk(
                g,
                {
                    **ROLE,
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"ci'},
                        }
                    ],
                },
            ),
            "data: "
            + chunk(g, {"tool_calls": [{"index": 0, "function": {"arguments": 'ty":"Paris"}'}}]}),
        ],
    ),
    (
        "tool_call_header_only",
        "[{tool_call: {index: 1, id: call_2, name: f}}]",
        lambda g: [
            "data: "
            + chunk(
                g,
                {
                    **ROLE,
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "call_2",
                            "type": "function",
                            "function": {"name": "f", "arguments": ""},
                        }
                    ],
                },
            )
        ],
    ),
    ("raw", '[{raw: "data: {not json\\n\\n"}]', lambda g: ["data: {not json"]),
    (
        "error",
        '[{content: "Hi"}, {error: {code: 502, message: "upstream reset"}}]',
        lambda g: [
            "data: " + chunk(g, {**ROLE, "content": "Hi"}),
            "data: "
            + error_chunk(
                g,
                {
                    "code": 502,
                    "message": "upstream reset",
                    "metadata": {"error_type": "provider_unavailable"},
                },
            ),
        ],
    ),
    ("finish", "[{finish: length}]", lambda g: ["data: " + chunk(g, {}, "length", "length")]),
    (
        "usage",
        "[{usage: {prompt_tokens: 10, completion_tokens: 2}}]",
        lambda g: ["data: " + usage_chunk(g, usage(2, 10))],
    ),
    ("done", "[{done: true}, {done: false}]", lambda g: ["data: [DONE]"]),
]


@pytest.mark.parametrize(
    "events_yaml,expected", [(y, e) for _, y, e in EVENTS], ids=[k for k, _, _ in EVENTS]
)
def test_events_each_kind(
    server: EmulatorServer, events_yaml: str, expected: Callable[[str], list[str]]
) -> None:
    """stream.events plays each kind exactly as written (role added to the first delta only)."""
    yaml_text = "name: s\nreply:\n  content: Hi\n  stream:\n    events: " + events_yaml + "\n"
    raw = play(server, yaml_text)
    assert raw.body == sse(expected(server.requests[-1].generation_id or ""))
    assert raw.end == "complete"


def test_events_disconnect(server: EmulatorServer) -> None:
    """events disconnect: the connection closes there, no terminator; later events never play."""
    raw = play(
        server,
        'name: s\nreply:\n  stream:\n    events: [{content: "Hi"}, {disconnect: true},'
        ' {content: "never"}]\n',
    )
    assert raw.body == sse(["data: " + chunk(raw.gen_id, {**ROLE, "content": "Hi"})])
    assert raw.end in ("eof", "reset")
    assert last_entry(server).outcome == "dropped"


ISSUE_EVENTS = """\
name: s
reply:
  stream:
    events:
      - comment: "OPENROUTER PROCESSING"
      - wait_ms: 300
      - content: "Hel"
      - content: "lo"
      - tool_call: {index: 0, id: call_1, name: get_weather, arguments: '{"ci'}
      - tool_call: {index: 0, arguments: 'ty":"Paris"}'}
      - raw: "data: {not json\\n\\n"
      - error: {code: 502, message: "upstream reset"}
      - finish: stop
      - usage: {prompt_tokens: 10, completion_tokens: 2}
      - done: true
      - disconnect: true
"""


def test_issue_timeline_plays_in_order(server: EmulatorServer) -> None:
    """The issue's whole `events` example: every kind in order, ending in a disconnect."""
    raw = play(server, ISSUE_EVENTS)
    kinds = [e.kind for e in last_entry(server).events]
    assert kinds == [
        "head",
        "comment",
        "wait",
        "data",
        "data",
        "data",
        "data",
        "raw",
        "error",
        "data",
        "data",
        "done",
        "drop",
    ]
    assert raw.end in ("eof", "reset")


# --- framing faults ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "eol,yaml_eol", [("\r\n", '"\\r\\n"'), ("\r", '"\\r"')], ids=["crlf", "cr"]
)
def test_line_ending(server: EmulatorServer, eol: str, yaml_eol: str) -> None:
    """framing.line_ending: every comment and data event ends in that line ending, twice."""
    raw = play(server, reply(f"chunking: {{words: 5}}\nframing: {{line_ending: {yaml_eol}}}"))
    gid = raw.data(eol)[0]["id"]
    pieces = ["Once upon a time, in", " 北京\nthere lived a 🦊."]
    assert raw.body == sse(text_stream(gid, pieces, tokens.count(TEXT)), eol)
    assert b"\n\n" not in raw.body.replace(b"\\n", b"")


def test_split_every_writes_pieces(server: EmulatorServer) -> None:
    """framing.split_every 7: every event goes out in separate writes (HTTP chunks) of 7 bytes."""
    raw = play(server, reply("chunking: {words: 5}\nframing: {split_every: 7}"))
    gid = raw.data()[0]["id"]
    events = sse(
        text_stream(gid, ["Once upon a time, in", " 北京\nthere lived a 🦊."], tokens.count(TEXT))
    )
    expected_pieces: list[bytes] = []
    for event in events.split(b"\n\n")[:-1]:
        data = event + b"\n\n"
        expected_pieces += [data[i : i + 7] for i in range(0, len(data), 7)]
    assert [p.data for p in raw.pieces] == expected_pieces


def test_split_every_cuts_utf8_characters(server: EmulatorServer) -> None:
    """split_every may cut a multibyte UTF-8 character: a piece alone does not decode, the body does."""
    raw = play(server, reply("chunking: none\nframing: {split_every: 5}", '"北京🦊"'))
    undecodable = 0
    for piece in raw.pieces:
        try:
            piece.data.decode("utf-8")
        except UnicodeDecodeError:
            undecodable += 1
    assert undecodable > 0 and all(len(p.data) <= 5 for p in raw.pieces)
    assert raw.body == sse(text_stream(raw.gen_id, ["北京🦊"], tokens.count("北京🦊")))


def test_stall_after(server: EmulatorServer) -> None:
    """framing.stall_after 2: half of data event 2, then nothing for stall_ms, then a close."""
    raw = play(server, reply("chunking: none\nframing: {stall_after: 2, stall_ms: 300}"))
    gid = raw.gen_id
    role = sse(
        [": OPENROUTER PROCESSING", "data: " + chunk(gid, {"role": "assistant", "content": ""})]
    )
    second = sse(["data: " + chunk(gid, {"content": TEXT})])
    assert raw.body == role + second[: len(second) // 2]
    assert raw.end in ("eof", "reset")
    # the stall is a wait like any other: the close is due 300 ms after the request arrived
    assert raw.pieces[-1].t_ms < 150 and 300 - EARLY_MS <= raw.end_ms <= 300 + SLACK_MS
    assert last_entry(server).outcome == "dropped"


def test_duplicate_done(server: EmulatorServer) -> None:
    """framing.duplicate_done: data: [DONE] twice at the end."""
    raw = play(server, reply("chunking: none\nframing: {duplicate_done: true}"))
    expected = text_stream(raw.gen_id, [TEXT], tokens.count(TEXT)) + ["data: [DONE]"]
    assert raw.body == sse(expected)


# --- reasoning, tool calls and the stream invariants ------------------------------------------


def test_reasoning_streams_before_content(server: EmulatorServer) -> None:
    """reasoning streams in delta.reasoning, chunked like content, then its reasoning_details
    item, before the content."""
    yaml_text = (
        'name: s\nreply:\n  reasoning: "Think it over."\n  content: "The answer."\n'
        "  stream: {chunking: words}\n"
    )
    raw = play(server, yaml_text)
    gid = raw.gen_id
    expected = [
        ": OPENROUTER PROCESSING",
        "data: " + chunk(gid, {"role": "assistant", "content": ""}),
        *("data: " + chunk(gid, {"reasoning": p}) for p in ["Think", " it", " over."]),
        "data: "
        + chunk(
            gid,
            {
                "reasoning_details": [
                    {
                        "type": "reasoning.text",
                        "text": "Think it over.",
                        "format": "unknown",
                        "index": 0,
                    }
                ]
            },
        ),
        *("data: " + chunk(gid, {"content": p}) for p in ["The", " answer."]),
        "data: " + chunk(gid, {}, "stop", "stop"),
        "data: "
        + usage_chunk(
            gid,
            usage(
                tokens.count("Think it over.") + tokens.count("The answer."),
                reasoning_tokens=tokens.count("Think it over."),
            ),
        ),
        "data: [DONE]",
    ]
    assert raw.body == sse(expected)


TOOLS_YAML = """\
name: s
reply:
  tool_calls:
    - {id: call_1, name: get_weather, arguments: {city: Paris}}
    - {id: call_2, name: get_time, arguments: '{"tz":"CET"}'}
  stream: {chunking: {chars: 3}}
"""


def test_tool_calls_stream_as_protocol_4_3(server: EmulatorServer) -> None:
    """Tool calls: full header (arguments ""), then index + fragments; calls one after another."""
    raw = play(server, TOOLS_YAML)
    gid = raw.gen_id

    def header(i: int, cid: str, name: str) -> dict[str, Any]:
        return {
            "index": i,
            "id": cid,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }

    def frags(i: int, args: str) -> list[str]:
        return [
            "data: "
            + chunk(gid, {"tool_calls": [{"index": i, "function": {"arguments": args[k : k + 3]}}]})
            for k in range(0, len(args), 3)
        ]

    args1, args2 = '{"city":"Paris"}', '{"tz":"CET"}'
    completion_tokens = sum(tokens.count(t) for t in ("get_weather", args1, "get_time", args2))
    expected = [
        ": OPENROUTER PROCESSING",
        "data: "
        + chunk(
            gid,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [header(0, "call_1", "get_weather")],
            },
        ),
        *frags(0, args1),
        "data: " + chunk(gid, {"tool_calls": [header(1, "call_2", "get_time")]}),
        *frags(1, args2),
        "data: " + chunk(gid, {}, "tool_calls", "tool_calls"),
        "data: " + usage_chunk(gid, usage(completion_tokens)),
        "data: [DONE]",
    ]
    assert raw.body == sse(expected)


INVARIANT_CASES = {
    "text": reply("chunking: words"),
    "reasoning": 'name: s\nreply: {reasoning: "Hmm, yes.", content: "Yes indeed."}\n',
    "tools": TOOLS_YAML,
    "openrouter-usage": reply("usage_chunk: openrouter"),
}


@pytest.mark.parametrize("yaml_text", INVARIANT_CASES.values(), ids=INVARIANT_CASES.keys())
@pytest.mark.parametrize("n", [1, 2])
def test_stream_invariants(server: EmulatorServer, yaml_text: str, n: int) -> None:
    """One id and created throughout, role only on each choice's first delta, usage right before [DONE]."""
    raw = play(server, yaml_text, n=n)
    data = raw.data()
    assert data[-1] == "[DONE]" and "[DONE]" not in data[:-1]
    chunks = data[:-1]
    assert len({(c["id"], c["created"]) for c in chunks}) == 1
    assert [i for i, c in enumerate(chunks) if "usage" in c] == [len(chunks) - 1]
    for index in range(n):
        deltas = [ch["delta"] for c in chunks[:-1] for ch in c["choices"] if ch["index"] == index]
        assert [i for i, d in enumerate(deltas) if "role" in d] == [0]


# --- determinism and time scale ----------------------------------------------------------------

SCHEDULED = reply(
    "chunking: {chars: 6}\nttft_ms: 120\ninterval_ms: {min: 5, max: 40}\nkeepalive: {every_ms: 50}"
)


def schedule(entry: JournalEntry) -> list[tuple[str, str]]:
    """What the journal says was played, in order, without the measured times."""
    return [(e.kind, e.data) for e in entry.events]


def test_same_seed_same_bytes_and_schedule(server: EmulatorServer) -> None:
    """Same seed and request: the same bytes and the same schedule (kinds, data and waits)."""
    first = play(server, SCHEDULED)
    first_schedule = schedule(last_entry(server))
    server.reset()
    second = play(server, SCHEDULED)
    assert second.body == first.body
    assert schedule(last_entry(server)) == first_schedule
    assert any(kind == "wait" for kind, _ in first_schedule)


def test_other_seed_other_schedule(server: EmulatorServer) -> None:
    """Another seed draws other jitter (and another id)."""
    play(server, SCHEDULED)
    first = waits(last_entry(server))
    server.reset()
    server.configure(seed=7)
    play(server, SCHEDULED)
    assert waits(last_entry(server)) != first


def test_time_scale_shrinks_waits(server: EmulatorServer) -> None:
    """time_scale 0.1 (configure, as the fixture marker does): a 1 s ttft takes ~0.1 s."""
    server.configure(time_scale=0.1)
    raw = play(server, reply("ttft_ms: 1000\nchunking: none"))
    first = raw.content_times()[0]
    assert 100 - EARLY_MS <= first <= 100 + SLACK_MS
    assert waits(last_entry(server)) == [1000.0]  # the journal keeps the scheduled ms


def test_time_scale_zero_means_no_waits(server: EmulatorServer) -> None:
    """time_scale 0: a stream scheduled over 9 s plays at once."""
    server.configure(time_scale=0)
    raw = play(
        server,
        reply('ttft_ms: 5000\ninterval_ms: 1000\nchunks: ["a", "b", "c", "d", "e"]', '"abcde"'),
    )
    assert raw.end == "complete" and raw.end_ms < 1000
    assert sum(waits(last_entry(server))) == 9000


@pytest.mark.chat_emulator(time_scale=0.1)
def test_time_scale_from_the_pytest_marker(chat_emulator: EmulatorServer) -> None:
    """The chat_emulator fixture's time_scale marker option shrinks waits the same way."""
    post(chat_emulator.port)  # warm this server up (first request loads the tokenizer)
    raw = play(chat_emulator, reply("ttft_ms: 1000\nchunking: none"))
    assert 100 - EARLY_MS <= raw.content_times()[0] <= 100 + SLACK_MS


@pytest.fixture
def cli_server(tmp_path: Path) -> Iterator[Callable[..., int]]:
    """Start `python -m emulator serve --port 0 ...` with a scenario file; yields its port."""
    procs: list[subprocess.Popen[str]] = []

    def start(yaml_text: str, *args: str) -> int:
        path = tmp_path / "s.yaml"
        path.write_text(yaml_text)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "emulator",
                "serve",
                "--port",
                "0",
                "--scenarios",
                str(path),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.startswith("loaded "):  # with --scenarios, what was loaded comes first
            line = proc.stdout.readline()
        assert line.startswith("chat-emulator serving on http://127.0.0.1:"), line
        return int(line.strip().rsplit(":", 1)[1])

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_time_scale_from_the_cli(cli_server: Callable[..., int]) -> None:
    """--time-scale 0 on the command line: a 5 s ttft and 1 s intervals play at once."""
    port = cli_server(
        reply('ttft_ms: 5000\ninterval_ms: 1000\nchunks: ["a", "b", "c"]', '"abc"'),
        "--time-scale",
        "0",
    )
    raw = post(port)
    assert raw.end == "complete" and raw.end_ms < 3000  # the cold first request included
    assert [d["choices"][0]["delta"].get("content") for d in raw.data()[1:4]] == ["a", "b", "c"]


def test_time_scale_tenth_from_the_cli(cli_server: Callable[..., int]) -> None:
    """--time-scale 0.1 on the command line: a 1 s ttft takes ~0.1 s (after a warm-up)."""
    port = cli_server(reply("ttft_ms: 1000\nchunking: none"), "--time-scale", "0.1")
    post(port)  # warm-up
    first = post(port).content_times()[0]
    assert 100 - EARLY_MS <= first <= 100 + SLACK_MS


# --- absolute deadlines and client disconnects -------------------------------------------------


def test_absolute_deadlines_do_not_drift(server: EmulatorServer) -> None:
    """50 chunks at 10 ms: each sent no earlier than its deadline, and lateness does not add up."""
    chunks = ", ".join(f'"w{i} "' for i in range(50))
    content = '"' + "".join(f"w{i} " for i in range(50)) + '"'
    raw = play(server, reply(f"chunks: [{chunks}]\ninterval_ms: 10", content))
    times = raw.content_times()
    assert len(times) == 50
    assert_not_before(times, cumulative(0.0, [10.0] * 49))
    assert times[-1] - times[0] < 490 + SLACK_MS
    sent = [e.t_ms for e in last_entry(server).events if e.kind == "data"][1:51]
    lateness = [t - 10 * i for i, t in enumerate(sent)]  # deadline i = start + i x 10 ms
    assert min(lateness) >= -EARLY_MS
    assert lateness[-1] < 100  # relative sleeps would accumulate every oversleep


def test_client_disconnect_stops_the_timeline(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A client gone mid-stream: timeline stops at once, journal says client_aborted, no ERROR."""
    caplog.set_level(logging.INFO)
    server.add(reply("chunking: words\ninterval_ms: 300", '"a b c d e f g h i j"'))
    raw = post(server.port, stream_body(), stop_when=lambda body: body.count(b'"content":"') >= 3)
    closed_at = time.monotonic()
    entry = last_entry(server)
    assert time.monotonic() - closed_at < 1.0  # the schedule had ~2.4 s left
    assert raw.end == "closed_by_us"
    assert entry.client_aborted and entry.outcome == "client_aborted"
    assert entry.aborted_after == len(entry.events)
    played = len(entry.events)
    time.sleep(0.7)  # two more intervals: nothing more may be recorded
    assert len(entry.events) == played
    assert not server.emulator.open_tasks
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert post(server.port).end == "complete"  # the server keeps serving
