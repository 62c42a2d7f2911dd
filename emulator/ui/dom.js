// chat-emulator inspector: small DOM helpers and the admin API client shared by the modules.

export const PREFIX = "/_emulator";

export function h(tag, attrs, ...children) {
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
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) el.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export const $ = (selector) => document.querySelector(selector);
export const ms = (value) => (value === null || value === undefined ? "–" : `${Math.round(value * 10) / 10}`);

export function notice(message, kind) {
  const box = $("#notice");
  box.textContent = message;
  box.dataset.kind = kind || "info";
  box.hidden = !message;
}

export async function api(method, path, body, contentType) {
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
