// chat-emulator inspector: one request in detail (problems, matching, reply, headers, body) and
// its actions (copy as curl, export as a scenario, raw bytes).

import { $, PREFIX, api, h, ms } from "/_emulator/ui/dom.js";
import { timelineSection } from "/_emulator/ui/timeline.js";

const FOLD_AT = 200; // characters of a string shown before it is folded

export function renderDetail(d) {
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

function output(title, text, filename, href) {
  const box = $("#action-output");
  const parts = [h("div", { class: "stats" },
    h("button", { class: "close", type: "button", title: "close", onclick: () => box.replaceChildren() }, "×"), " ", title)];
  if (filename) {
    const url = href || URL.createObjectURL(new Blob([text], { type: "text/yaml" }));
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
  const size = d.timing.events.reduce((n, e) => n + e.bytes, 0);
  output(`Raw bytes sent after the head (${size} bytes; \\r and \\n shown):`, visible(raw),
    `request-${d.seq}.bin`, `${PREFIX}/requests/${d.seq}/raw`);
}
