// chat-emulator inspector: the journal live (server-sent events from /_emulator/events), one
// request in detail, a stream's timing as SVG. Plain JavaScript, no build step, no dependency:
// everything it loads comes from the emulator itself.
"use strict";

const PREFIX = "/_emulator";
const FOLD_AT = 200; // characters of a string shown before it is folded
const FILTERS = ["status", "outcome", "scenario", "model", "session"];
const NONE = "(none)";

const state = {
  rows: new Map(), // seq -> summary
  selected: null, // seq of the request shown in detail
  detail: null, // the detail JSON shown
  range: null, // {from, to}: only these request numbers (a link from a pytest report)
};

// --- small DOM helpers ------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) el.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const $ = (selector) => document.querySelector(selector);
const ms = (value) => (value === null || value === undefined ? "–" : `${Math.round(value * 10) / 10}`);

function notice(message, kind) {
  const box = $("#notice");
  box.textContent = message;
  box.dataset.kind = kind || "info";
  box.hidden = !message;
}

async function api(method, path, body, contentType) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.body = body;
    init.headers["Content-Type"] = contentType || "application/json";
  }
  const response = await fetch(PREFIX + path, init);
  const text = await response.text();
  let data = text;
  try { data = JSON.parse(text); } catch (_) { /* not JSON: keep the text */ }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : text;
    throw new Error(`${method} ${PREFIX}${path}: ${response.status} ${message}`);
  }
  return data;
}

// --- the live list ----------------------------------------------------------------------------

function connect() {
  const badge = $("#connection");
  const source = new EventSource(`${PREFIX}/events`);
  source.addEventListener("open", () => { badge.dataset.state = "live"; badge.textContent = "live"; });
  source.addEventListener("error", () => { badge.dataset.state = "lost"; badge.textContent = "reconnecting…"; });
  source.addEventListener("snapshot", (event) => {
    state.rows = new Map(JSON.parse(event.data).map((row) => [row.seq, row]));
    renderList();
  });
  source.addEventListener("request", (event) => {
    const row = JSON.parse(event.data);
    state.rows.set(row.seq, row);
    renderList();
    if (row.seq === state.selected && row.outcome !== "pending") showDetail(row.seq);
    scheduleScenarios();
  });
  source.addEventListener("clear", () => {
    state.rows.clear();
    renderList();
    scheduleScenarios();
  });
}

function filterValues() {
  const values = {};
  for (const field of FILTERS) values[field] = $(`#filter-${field}`).value;
  return values;
}

function matches(row, filters) {
  if (state.range && (row.seq < state.range.from || row.seq > state.range.to)) return false;
  for (const field of FILTERS) {
    const wanted = filters[field];
    if (!wanted) continue;
    const value = row[field] === null || row[field] === undefined ? NONE : String(row[field]);
    if (value !== wanted) return false;
  }
  return true;
}

function updateOptions() {
  for (const field of ["status", "scenario", "model", "session"]) {
    const select = $(`#filter-${field}`);
    const seen = new Set([...state.rows.values()].map((r) => (r[field] === null ? NONE : String(r[field]))));
    if (select.value) seen.add(select.value);
    const known = new Set([...select.options].map((o) => o.value));
    for (const value of [...seen].sort()) {
      if (!known.has(value)) select.append(h("option", { value }, value));
    }
  }
}

function renderList() {
  updateOptions();
  const filters = filterValues();
  const body = $("#requests tbody");
  const rows = [...state.rows.values()].filter((row) => matches(row, filters)).sort((a, b) => b.seq - a.seq);
  body.replaceChildren(...rows.map(listRow));
  $("#empty").hidden = state.rows.size > 0;
  writeHash();
}

function listRow(row) {
  const time = new Date(row.started_at * 1000).toTimeString().slice(0, 8);
  const statusClass = row.status ? `status-${String(row.status)[0]}` : "";
  return h("tr", {
    "data-seq": row.seq,
    class: row.seq === state.selected ? "selected" : null,
    onclick: () => select(row.seq),
  },
  h("td", {}, row.seq),
  h("td", {}, time),
  h("td", { title: `${row.method} ${row.path}` }, row.path.replace(/^\/(api\/)?v1\//, ""),
    row.stream ? h("span", { class: "sse", title: "streamed (SSE)" }, "SSE") : null),
  h("td", { title: row.model || "" }, row.model || "–"),
  h("td", { title: row.scenario || "" }, row.scenario || "–"),
  h("td", { class: statusClass }, row.status || "–"),
  h("td", {}, h("span", { class: `outcome outcome-${row.outcome}` }, row.outcome)),
  h("td", {}, row.duration_ms === null ? "–" : Math.round(row.duration_ms)));
}

function select(seq) {
  state.selected = seq;
  for (const tr of document.querySelectorAll("#requests tbody tr")) {
    tr.classList.toggle("selected", Number(tr.dataset.seq) === seq);
  }
  showDetail(seq);
  writeHash();
}

// --- the address: filters, range and selection survive a reload and can be linked -------------

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const field of FILTERS) {
    const value = params.get(field);
    if (value) {
      const select = $(`#filter-${field}`);
      if (![...select.options].some((o) => o.value === value)) select.append(h("option", { value }, value));
      select.value = value;
    }
  }
  if (params.has("from")) {
    const from = Number(params.get("from"));
    const to = params.has("to") ? Number(params.get("to")) : Infinity;
    state.range = { from, to };
    const range = $("#range");
    range.hidden = false;
    range.replaceChildren(`Requests #${from} to ${to === Infinity ? "the newest" : "#" + to} only. `,
      h("button", { type: "button", onclick: () => { state.range = null; range.hidden = true; renderList(); } }, "show all"));
  }
  if (params.has("request")) select(Number(params.get("request")));
}

function writeHash() {
  const params = new URLSearchParams();
  for (const [field, value] of Object.entries(filterValues())) if (value) params.set(field, value);
  if (state.range) {
    params.set("from", state.range.from);
    if (state.range.to !== Infinity) params.set("to", state.range.to);
  }
  if (state.selected !== null) params.set("request", state.selected);
  const hash = params.toString();
  history.replaceState(null, "", hash ? `#${hash}` : location.pathname);
}

// --- one request in detail --------------------------------------------------------------------

async function showDetail(seq) {
  const pane = $("#detail");
  let detail;
  try {
    detail = await api("GET", `/requests/${seq}`);
  } catch (error) {
    pane.replaceChildren(h("p", { class: "empty" }, error.message));
    return;
  }
  if (state.selected !== seq) return;
  state.detail = detail;
  pane.replaceChildren(...renderDetail(detail).flat(Infinity).filter(Boolean));
}

function renderDetail(d) {
  const sum = d.summary;
  return [
    h("h2", {}, `#${d.seq} ${d.method} ${d.path} → ${d.status ?? "–"} `,
      h("span", { class: `outcome outcome-${sum.outcome}` }, sum.outcome)),
    h("div", { class: "toolbar" },
      h("button", { id: "copy-curl", onclick: () => copyCurl(d) }, "Copy as curl"),
      h("button", { id: "export", onclick: () => exportScenario(d) }, "Export as scenario"),
      d.timing.events.length ? h("button", { id: "show-raw", onclick: () => showRaw(d) }, "Raw bytes") : null),
    h("div", { id: "action-output" }),
    overview(d),
    problems(d),
    matching(d),
    timelineSection(d),
    replySection(d),
    h("h3", {}, "Request headers"),
    keyValues(Object.entries(d.headers)),
    h("h3", {}, "Request body"),
    h("pre", { class: "json", id: "request-body" }, jsonNodes(d.body, "")),
  ];
}

function overview(d) {
  const facts = [
    ["started", new Date(d.started_at * 1000).toISOString().replace("T", " ").slice(0, 23)],
    ["duration", `${ms(d.duration_ms)} ms`],
    ["stream", d.stream ? "yes" : "no"],
    ["model", d.summary.model || "–"],
    ["session", d.summary.session || "–"],
    ["generation", d.generation_id || "–"],
  ];
  if (d.client_aborted) facts.push(["client aborted", `after ${d.aborted_after} events`]);
  if (d.error) facts.push(["server error", d.error]);
  return h("div", { class: "stats overview" }, facts.map(([k, v], i) => [i ? " · " : "", `${k} `, h("b", {}, v)]));
}

function keyValues(rows) {
  return h("table", { class: "kv" }, rows.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, v))));
}

function problems(d) {
  const parts = [];
  if (d.validation_errors.length) {
    parts.push(h("h3", {}, `Validation problems (${d.validation_errors.length})`),
      h("ul", { class: "problems" }, d.validation_errors.map((p) => h("li", {}, h("code", {}, p.path), ": ", p.message))));
  }
  if (d.ignored_params.length) {
    parts.push(h("h3", {}, "Ignored parameters"),
      h("p", {}, "Not documented for the endpoint (a 400 in strict mode): ",
        d.ignored_params.map((p, i) => [i ? ", " : "", h("code", {}, p)])));
  }
  return parts;
}

function matching(d) {
  if (d.scenario) {
    const call = d.call_number ? ` (call ${d.call_number})` : "";
    return [h("h3", {}, "Scenario"), h("p", { id: "matched" }, "Matched ", h("code", {}, d.scenario), call)];
  }
  const parts = [h("h3", {}, "Scenario")];
  if (!d.near_misses.length) {
    parts.push(h("p", { id: "matched" }, d.validation_errors.length
      ? "Not matched: the request was rejected before matching."
      : "No scenario loaded matched; the built-in default reply (or strict mode's 404) answered."));
    return parts;
  }
  parts.push(h("p", { id: "matched" }, `No scenario matched. Near misses (${d.near_misses.length}), and why each did not match:`),
    h("ul", { class: "misses" }, d.near_misses.map((m) => h("li", {}, h("code", {}, m.scenario),
      h("ul", {}, m.reasons.map((r) => h("li", {}, r)))))));
  return parts;
}

function replySection(d) {
  const r = d.reply;
  const parts = [h("h3", {}, "Reply")];
  if (!r.choices.length && !r.error && !r.usage) {
    parts.push(h("p", { class: "empty" }, "No completion in what was sent."));
    return parts;
  }
  for (const c of r.choices) {
    const label = r.choices.length > 1 ? `choice ${c.index}: ` : "";
    if (c.reasoning) parts.push(h("div", { class: "reply-text reasoning", title: "reasoning" }, c.reasoning));
    if (c.content !== null && c.content !== undefined) parts.push(h("div", { class: "reply-text", id: `reply-${c.index}` }, c.content));
    if (c.refusal) parts.push(h("div", { class: "reply-text refusal", title: "refusal" }, c.refusal));
    for (const call of c.tool_calls) {
      parts.push(h("div", { class: "stats" }, `tool call `, h("b", {}, call.name || "?"), ` ${call.id || ""}`),
        h("pre", { class: "json" }, jsonNodes(parseMaybe(call.arguments), "")));
    }
    parts.push(h("div", { class: "stats" }, `${label}finish_reason: `, h("b", {}, c.finish_reason ?? "–")));
  }
  if (r.error) parts.push(h("div", { class: "stats" }, "error:"), h("pre", { class: "json" }, jsonNodes(r.error, "")));
  if (r.usage) {
    const u = r.usage;
    parts.push(h("div", { class: "stats", id: "usage" }, "usage: prompt ", h("b", {}, u.prompt_tokens ?? "–"),
      ", completion ", h("b", {}, u.completion_tokens ?? "–"), ", total ", h("b", {}, u.total_tokens ?? "–"),
      r.cost !== null && r.cost !== undefined ? [", cost ", h("b", {}, `${Number(r.cost).toPrecision(3)} USD`)] : ""));
  }
  return parts;
}

function parseMaybe(text) {
  try { return JSON.parse(text); } catch (_) { return text; }
}

// --- JSON, pretty, with long strings folded -----------------------------------------------------

function jsonNodes(value, indent) {
  if (value === null || typeof value !== "object") return scalar(value);
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return ["[\n", value.map((v, i) => [inner, jsonNodes(v, inner), i < value.length - 1 ? ",\n" : "\n"]), indent, "]"];
  }
  const keys = Object.keys(value);
  if (!keys.length) return "{}";
  return ["{\n", keys.map((k, i) => [inner, JSON.stringify(k), ": ", jsonNodes(value[k], inner),
    i < keys.length - 1 ? ",\n" : "\n"]), indent, "}"];
}

function scalar(value) {
  const text = JSON.stringify(value === undefined ? null : value);
  if (typeof value !== "string" || text.length <= FOLD_AT) return text;
  const span = h("span", { class: "folded" }, text.slice(0, FOLD_AT));
  const more = h("button", { class: "fold", type: "button", title: "show the whole string" },
    `… (${text.length - FOLD_AT} more characters)`);
  more.addEventListener("click", () => { span.textContent = text; more.remove(); });
  return [span, more];
}

// --- the stream's timeline ----------------------------------------------------------------------

const W = 900, LEFT = 74, RIGHT = 16, ROW_SCHEDULED = 46, ROW_ACTUAL = 96, HEIGHT = 150;

function timelineSection(d) {
  const t = d.timing;
  if (!t.events.length) return [];
  const dataGaps = t.gaps_ms;
  const gapText = dataGaps.length
    ? `gaps between data events: min ${ms(Math.min(...dataGaps))}, max ${ms(Math.max(...dataGaps))} ms (${dataGaps.length})`
    : "no gaps (fewer than two data events)";
  const late = t.events.map((e) => e.t_ms - e.scheduled_ms);
  return [
    h("h3", {}, d.stream ? "Stream timeline" : "Timeline"),
    h("div", { class: "stats", id: "timing" },
      "TTFT (first data event): ", h("b", {}, `${ms(t.ttft_ms)} ms`),
      " · first byte: ", h("b", {}, `${ms(t.first_byte_ms)} ms`), " · ", gapText,
      " · most late: ", h("b", {}, `${ms(Math.max(...late))} ms`),
      t.time_scale !== 1 ? ` · time scale ${t.time_scale}` : "",
      t.aborted_at_ms !== null ? [" · ", h("b", {}, `client aborted at ${ms(t.aborted_at_ms)} ms`)] : ""),
    timelineSvg(t, d),
    h("div", { class: "legend" }, ["head", "data", "comment", "wait", "hold", "error", "close", "raw", "drop"].map(
      (k) => h("span", {}, h("i", { class: `k-${k}` }), k))),
    eventsTable(t),
  ];
}

function timelineSvg(t, d) {
  const end = Math.max(1, d.duration_ms || 0, t.aborted_at_ms || 0, ...t.events.map((e) => Math.max(e.t_ms, e.scheduled_ms)));
  const x = (value) => LEFT + (value / end) * (W - LEFT - RIGHT);
  const svg = s("svg", { class: "timeline", id: "timeline", viewBox: `0 0 ${W} ${HEIGHT}`, "data-end-ms": end });
  for (const tick of ticks(end)) {
    svg.append(s("line", { class: "grid", x1: x(tick), x2: x(tick), y1: 22, y2: HEIGHT - 22 }),
      s("text", { x: x(tick), y: HEIGHT - 8, "text-anchor": "middle" }, `${ms(tick)} ms`));
  }
  svg.append(s("text", { class: "row-label", x: 6, y: ROW_SCHEDULED + 4 }, "scheduled"),
    s("text", { class: "row-label", x: 6, y: ROW_ACTUAL + 4 }, "sent"));
  // Waits as bars on the scheduled row: from the previous deadline to this one.
  for (const e of t.events) {
    if (e.kind !== "wait" && e.kind !== "hold") continue;
    const span = Number(e.data) * (e.kind === "wait" ? t.time_scale : 1);
    svg.append(s("rect", { class: "wait-bar", x: x(e.scheduled_ms - span), y: ROW_SCHEDULED - 7,
      width: Math.max(1, x(e.scheduled_ms) - x(e.scheduled_ms - span)), height: 14 }));
  }
  if (t.ttft_ms !== null) {
    svg.append(s("line", { class: "ttft", x1: x(t.ttft_ms), x2: x(t.ttft_ms), y1: 16, y2: ROW_ACTUAL + 14 }),
      s("text", { class: "ttft-label", x: x(t.ttft_ms) + (x(t.ttft_ms) > W * 0.8 ? -3 : 3), y: 14,
        "text-anchor": x(t.ttft_ms) > W * 0.8 ? "end" : "start" }, `TTFT ${ms(t.ttft_ms)} ms`));
  }
  if (t.aborted_at_ms !== null) {
    svg.append(s("line", { class: "abort", id: "abort-line", x1: x(t.aborted_at_ms), x2: x(t.aborted_at_ms), y1: 16, y2: ROW_ACTUAL + 14 }),
      s("text", { class: "abort-label", x: x(t.aborted_at_ms) - 3, y: 14, "text-anchor": "end" }, "client aborted"));
  }
  const marks = s("g", { class: "marks" });
  t.events.forEach((e, i) => {
    const title = s("title", {}, `#${i} ${e.kind}: scheduled ${ms(e.scheduled_ms)} ms, sent ${ms(e.t_ms)} ms ` +
      `(${e.t_ms >= e.scheduled_ms ? "+" : ""}${ms(e.t_ms - e.scheduled_ms)}), ${e.bytes} bytes`);
    marks.append(
      s("line", { class: "link", x1: x(e.scheduled_ms), y1: ROW_SCHEDULED, x2: x(e.t_ms), y2: ROW_ACTUAL }),
      s("circle", { class: `scheduled mark-${e.kind}`, cx: x(e.scheduled_ms), cy: ROW_SCHEDULED, r: 3.5,
        "data-index": i, "data-ms": e.scheduled_ms }),
      s("circle", { class: `mark mark-${e.kind}`, cx: x(e.t_ms), cy: ROW_ACTUAL, r: 4.5,
        "data-index": i, "data-kind": e.kind, "data-ms": e.t_ms }, title));
  });
  svg.append(marks);
  return svg;
}

function ticks(end) {
  const step = niceStep(end / 5);
  const out = [];
  for (let v = 0; v <= end + 1e-9; v += step) out.push(v);
  return out;
}

function niceStep(raw) {
  const power = Math.pow(10, Math.floor(Math.log10(raw || 1)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * power) return m * power;
  return 10 * power;
}

function eventsTable(t) {
  return h("details", { class: "events-box" }, h("summary", {}, `Events (${t.events.length})`),
    h("table", { class: "events" },
      h("tr", {}, ["#", "kind", "scheduled ms", "sent ms", "late ms", "bytes", "data"].map((c) => h("th", {}, c))),
      t.events.map((e, i) => h("tr", {},
        h("td", {}, i), h("td", {}, e.kind), h("td", {}, ms(e.scheduled_ms)), h("td", {}, ms(e.t_ms)),
        h("td", { class: e.t_ms - e.scheduled_ms > 50 ? "late" : null }, ms(e.t_ms - e.scheduled_ms)),
        h("td", {}, e.bytes), h("td", { class: "excerpt", title: e.data }, e.data)))));
}

// --- actions ------------------------------------------------------------------------------------

function output(title, text, filename) {
  const box = $("#action-output");
  const parts = [h("div", { class: "stats" },
    h("button", { class: "close", type: "button", title: "close", onclick: () => box.replaceChildren() }, "×"), " ", title)];
  if (filename) {
    const url = URL.createObjectURL(new Blob([text], { type: "text/yaml" }));
    parts[0].append(" ", h("a", { href: url, download: filename, id: "download" }, `download ${filename}`));
  }
  parts.push(h("pre", { id: "action-text" }, text));
  box.replaceChildren(...parts);
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (_) {
    return false; // not a secure context, or no permission: the text is shown to copy by hand
  }
}

async function copyCurl(d) {
  const copied = await copyText(d.curl);
  output(copied ? "Copied to the clipboard (set OPENROUTER_API_KEY first):" : "The request as curl:", d.curl);
}

async function exportScenario(d) {
  try {
    const text = await api("GET", `/requests/${d.seq}/scenario`);
    const yaml = typeof text === "string" ? text : JSON.stringify(text, null, 2);
    output(`Request #${d.seq} as a scenario:`, yaml, `request-${d.seq}.yaml`);
  } catch (error) {
    output("Export failed:", error.message);
  }
}

function showRaw(d) {
  const visible = (text) => text.replace(/\r/g, "\\r").replace(/\n/g, "\\n\n").replace(/\t/g, "\\t");
  const raw = d.timing.events.filter((e) => e.data && !["head", "wait", "hold"].includes(e.kind)).map((e) => e.data).join("");
  output(`Raw bytes sent (${d.timing.events.reduce((n, e) => n + e.bytes, 0)} bytes; \\r and \\n shown):`, visible(raw));
}

async function run(action) {
  try {
    const message = await action();
    notice(message || "", "info");
  } catch (error) {
    notice(error.message, "error");
  }
  refreshScenarios();
}

function setupActions() {
  $("#load-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const type = file.name.endsWith(".json") ? "application/json" : "application/yaml";
    const text = await file.text();
    event.target.value = "";
    run(async () => {
      const result = await api("POST", `/scenarios?source=${encodeURIComponent(file.name)}`, text, type);
      return `Loaded from ${file.name}: ${result.loaded.join(", ")}`;
    });
  });
  $("#reload").addEventListener("click", () => run(async () => {
    const result = await api("POST", "/scenarios/reload");
    return `Reloaded ${result.reloaded.length} scenario(s): ${result.reloaded.join(", ")}`;
  }));
  $("#clear").addEventListener("click", () => run(async () => {
    const result = await api("DELETE", "/requests");
    return `Cleared ${result.deleted} request(s) from the journal.`;
  }));
  $("#reset").addEventListener("click", () => run(async () => {
    const keep = $("#keep-scenarios").checked;
    await api("POST", `/reset?keep_scenarios=${keep}`);
    state.selected = null;
    $("#detail").replaceChildren(h("p", { class: "empty" }, "Select a request to see it in detail."));
    return keep ? "Reset (scenarios kept)." : "Reset: journal, counters, settings and scenarios.";
  }));
  for (const field of FILTERS) $(`#filter-${field}`).addEventListener("change", renderList);
}

// --- loaded scenarios ---------------------------------------------------------------------------

let scenarioTimer = null;
function scheduleScenarios() {
  clearTimeout(scenarioTimer);
  scenarioTimer = setTimeout(refreshScenarios, 300);
}

async function refreshScenarios() {
  try {
    const { scenarios } = await api("GET", "/scenarios");
    $("#scenario-count").textContent = scenarios.length;
    $("#scenarios ul").replaceChildren(...scenarios.map((sc) =>
      h("li", {}, h("code", {}, sc.name), ` ${sc.calls} call(s) · ${sc.source}`)));
  } catch (error) {
    notice(error.message, "error");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#base-url").textContent = `${location.origin}/v1`;
  setupActions();
  readHash();
  connect();
  refreshScenarios();
});
