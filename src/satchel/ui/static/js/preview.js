// Previews: images, text, JSON (indented), CSV (a table), PDF (the browser's viewer); the bytes
// are fetched with the caller's token and shown from a blob: URL.

import { authHeaders, path } from "./api.js";
import { h, mount } from "./dom.js";

const TEXT_LIMIT = 1024 * 1024;
const ROWS = 200;

export async function preview(root, meta) {
  const type = (meta.mime || "").split(";")[0].trim().toLowerCase();
  const textual = type.startsWith("text/") || type === "application/json" || type.endsWith("+json") || type.endsWith("+xml");
  const viewable = type.startsWith("image/") || type === "application/pdf" || textual;
  if (!viewable) { mount(root, h("p", { class: "muted" }, `No preview for ${type}.`)); return; }
  if (textual && meta.bytes > TEXT_LIMIT) { mount(root, h("p", { class: "muted" }, "Too large to preview; download it.")); return; }
  const response = await fetch(path`/v1/artifacts/${meta.artifact_id}/content`, { headers: authHeaders() });
  if (!response.ok) throw Object.assign(new Error(`the content answered ${response.status}`), { status: response.status });
  if (type.startsWith("image/")) {
    const url = URL.createObjectURL(await response.blob());
    mount(root, h("img", { src: url, alt: meta.filename || "image", id: "preview-image" }));
    return;
  }
  if (type === "application/pdf") {
    const url = URL.createObjectURL(new Blob([await response.arrayBuffer()], { type: "application/pdf" }));
    mount(root, h("iframe", { src: url, title: "PDF preview", id: "preview-pdf" }));
    return;
  }
  const text = await response.text();
  if (type === "text/csv") { mount(root, csvTable(text)); return; }
  if (type === "application/json" || type.endsWith("+json")) {
    try { mount(root, h("pre", { id: "preview-text" }, JSON.stringify(JSON.parse(text), null, 2))); return; } catch { /* show as text */ }
  }
  mount(root, h("pre", { id: "preview-text" }, text));
}

export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 1; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(cell); rows.push(row); row = []; cell = "";
      if (rows.length > ROWS) break;
    } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

function csvTable(text) {
  const [head = [], ...rows] = parseCsv(text);
  return h("div", { class: "table-wrap" }, h("table", { id: "preview-csv" },
    h("thead", {}, h("tr", {}, head.map((cell) => h("th", {}, cell)))),
    h("tbody", {}, rows.slice(0, ROWS).map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell)))))));
}
