// chat-emulator inspector: a stream's timeline as SVG, scheduled vs sent time of every event.

import { h, s, ms } from "/_emulator/ui/dom.js";

const W = 900, LEFT = 74, RIGHT = 16, ROW_SCHEDULED = 46, ROW_ACTUAL = 96, HEIGHT = 150;

export function timelineSection(d) {
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
    svg.append(s("line", { class: "abort", id: "abort-line", x1: x(t.aborted_at_ms), x2: x(t.aborted_at_ms), y1: 16, y2: ROW_ACTUAL + 28 }),
      s("text", { class: "abort-label", x: x(t.aborted_at_ms) - 3, y: ROW_ACTUAL + 24, "text-anchor": "end" },
        "client aborted"));
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
