// Artifacts: search by name, type and scope, sorted, a page at a time (keyset pages: as fast
// on the millionth item as on the first), as a list or as folders of their names.

import { ApiError, api, query } from "./api.js";
import { errorBox } from "./errors.js";
import { field, h, mount, size, when } from "./dom.js";
import { principal } from "./state.js";

const PAGE = 50;
const ORDERS = [
  ["-stored_at", "Newest first"], ["stored_at", "Oldest first"], ["filename", "Name A–Z"],
  ["-filename", "Name Z–A"], ["-bytes", "Largest first"], ["bytes", "Smallest first"],
];
const trail = new Map(); // cursor → the cursor of the page before (for "Previous")

export async function browse(root, params) {
  const wanted = {
    name: params.get("name") || "",
    mime: params.get("mime") || "",
    scope: params.get("scope") || "",
    order: params.get("order") || "-stored_at",
    folders: params.get("folders") === "1",
    prefix: params.get("prefix") || "",
    cursor: params.get("cursor") || "",
    meta: params.get("meta") || "",
    session: params.get("session") || "",
    user: params.get("user") || "",
  };
  const admin = principal() && principal().admin;
  const name = h("input", { type: "search", name: "name", value: wanted.name, placeholder: "report*.csv" });
  const mime = h("input", { type: "search", name: "mime", value: wanted.mime, placeholder: "image/" });
  const scope = h("select", { name: "scope" },
    ["", "session", "user", "sandbox"].map((value) =>
      h("option", { value, selected: value === wanted.scope }, value || "any")));
  const order = h("select", { name: "order" },
    ORDERS.map(([value, label]) => h("option", { value, selected: value === wanted.order }, label)));
  const folders = h("input", { type: "checkbox", name: "folders", checked: wanted.folders });
  const meta = h("input", { type: "search", name: "meta", value: wanted.meta, placeholder: '{"run": 7}' });
  const sessionId = h("input", { type: "search", name: "session", value: wanted.session, size: 12 });
  const user = h("input", { type: "search", name: "user", value: wanted.user, size: 10 });
  const form = h("form", { class: "row", role: "search", onsubmit: (event) => {
    event.preventDefault();
    go({ name: name.value, mime: mime.value, scope: scope.value, order: order.value,
      folders: folders.checked ? "1" : "", prefix: folders.checked ? wanted.prefix : "",
      meta: meta.value, session: sessionId.value, user: admin ? user.value : "" });
  } },
  field("Name (glob)", name), field("Type prefix", mime), field("Scope", scope),
  field("Metadata (JSON)", meta), field("Session", sessionId), admin ? field("User", user) : null,
  field("Sort", order), h("label", { class: "inline" }, h("span", {}, "Folders"), folders),
  h("button", { type: "submit" }, "Search"));

  const body = h("tbody", {}, placeholderRows(8));
  const pager = h("div", { class: "pager" });
  const status = h("p", { class: "muted", id: "count" }, "Loading…");
  mount(root, h("h1", {}, "Artifacts"), form,
    wanted.prefix ? crumbs(wanted) : null,
    h("div", { class: "table-wrap" }, h("table", { id: "artifacts" },
      h("thead", {}, h("tr", {},
        h("th", {}, "Name"), h("th", { class: "num" }, "Size"), h("th", { class: "hide-narrow" }, "Type"),
        h("th", { class: "hide-narrow" }, "Scope"), h("th", {}, "Stored"), h("th", { class: "hide-narrow" }, "Expires"))),
      body)),
    pager, status);

  let glob = wanted.name || null;
  if (wanted.folders && wanted.prefix) glob = `${escapeGlob(wanted.prefix)}${wanted.name || "*"}`;
  let page;
  try {
    if (wanted.meta) {
      try { JSON.parse(wanted.meta); } catch (err) {
        throw new ApiError(400, "invalid_request", `Metadata must be a JSON object: ${err.message}`);
      }
    }
    page = await api(`/v1/artifacts${query({
      view: "search", filename_glob: glob, mime_prefix: wanted.mime, scope: wanted.scope,
      order: wanted.order, limit: PAGE, cursor: wanted.cursor, meta_filter: wanted.meta,
      session_id: wanted.session, user_id: admin ? wanted.user : "",
    })}`);
  } catch (err) {
    mount(body);
    mount(status, errorBox(err));
    return;
  }
  if (page.next_cursor) trail.set(page.next_cursor, wanted.cursor);
  mount(body, wanted.folders ? folderRows(page.items, wanted) : page.items.map(row));
  if (!page.items.length) mount(body, h("tr", {}, h("td", { colspan: 6, class: "muted" }, "Nothing here.")));
  status.textContent = `${page.items.length} shown${page.next_cursor ? ", more on the next page" : ""}`;
  const previous = trail.get(wanted.cursor);
  mount(pager,
    h("button", { type: "button", disabled: !wanted.cursor, onclick: () => go({ ...plain(wanted), cursor: previous || "" }) }, "Previous"),
    h("button", { type: "button", disabled: !page.next_cursor, onclick: () => go({ ...plain(wanted), cursor: page.next_cursor }) }, "Next"));
}

function plain(wanted) {
  return { ...wanted, folders: wanted.folders ? "1" : "" };
}

function go(params) {
  location.hash = `#/artifacts${query(params)}`;
}

function escapeGlob(text) {
  return text.replace(/[*?[\]\\]/g, (c) => `[${c === "\\" ? "\\\\" : c}]`);
}

function placeholderRows(count) {
  return Array.from({ length: count }, () =>
    h("tr", { class: "placeholder", "aria-hidden": "true" }, Array.from({ length: 6 }, () => h("td", {}, "…"))));
}

export function row(item) {
  return h("tr", {},
    h("td", {}, h("a", { href: `#/artifacts/${encodeURIComponent(item.artifact_id)}` }, item.filename || item.artifact_id)),
    h("td", { class: "num" }, size(item.bytes)),
    h("td", { class: "hide-narrow mono" }, item.mime),
    h("td", { class: "hide-narrow" }, item.scope),
    h("td", {}, when(item.stored_at)),
    h("td", { class: "hide-narrow" }, item.expires_at ? when(item.expires_at) : "never"));
}

function folderRows(items, wanted) {
  const seen = new Set();
  const rows = [];
  for (const item of items) {
    const rest = (item.filename || item.artifact_id).slice(wanted.prefix.length);
    const cut = rest.indexOf("/");
    if (cut < 0) { rows.push(row(item)); continue; }
    const folder = rest.slice(0, cut + 1);
    if (seen.has(folder)) continue;
    seen.add(folder);
    const target = `#/artifacts${query({ ...plain(wanted), cursor: "", prefix: wanted.prefix + folder })}`;
    rows.unshift(h("tr", {}, h("td", { colspan: 6 }, h("a", { href: target, class: "folder" }, `${folder}`))));
  }
  return rows;
}

function crumbs(wanted) {
  const parts = wanted.prefix.split("/").filter(Boolean);
  const links = [h("a", { href: `#/artifacts${query({ ...plain(wanted), prefix: "", cursor: "" })}` }, "all")];
  let at = "";
  for (const part of parts) {
    at += `${part}/`;
    links.push(" / ", h("a", { href: `#/artifacts${query({ ...plain(wanted), prefix: at, cursor: "" })}` }, part));
  }
  return h("nav", { class: "muted", "aria-label": "Folder" }, links);
}
