// chat-emulator inspector: the journal live (server-sent events from /_emulator/events), one
// request in detail, a stream's timing as SVG. Plain JavaScript, no build step, no dependency:
// everything it loads comes from the emulator itself.

import { $, PREFIX, api, h, ms, notice } from "/_emulator/ui/dom.js";
import { renderDetail } from "/_emulator/ui/detail.js";

const FILTERS = ["status", "outcome", "scenario", "model", "session"];
const NONE = "(none)";

const state = {
  rows: new Map(), // seq -> summary
  selected: null, // seq of the request shown in detail
  detail: null, // the detail JSON shown
  range: null, // {from, to}: only these request numbers (a link from a pytest report)
};

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
  if (!state.detail || state.detail.seq !== seq) pane.scrollTop = 0;
  state.detail = detail;
  pane.replaceChildren(...renderDetail(detail).flat(Infinity).filter(Boolean));
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
