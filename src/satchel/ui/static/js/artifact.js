// One artifact: what it is, a preview, download, a presigned link, and the changes a caller
// may make (metadata, expiry, copy, move, delete).

import { api, authHeaders, path, query } from "./api.js";
import { errorBox, showError } from "./errors.js";
import { field, h, mount, size, toast, when } from "./dom.js";
import { preview } from "./preview.js";
import { principal } from "./state.js";

const EXPIRIES = [[900, "15 minutes"], [3600, "1 hour"], [86400, "1 day"], [604800, "7 days"]];

export async function artifact(root, id) {
  let meta;
  try {
    meta = await api(path`/v1/artifacts/${id}`);
  } catch (err) {
    showError(root, err);
    return;
  }
  const problem = h("div");
  const shown = h("div", { class: "preview" }, h("p", { class: "muted" }, "Loading the preview…"));
  mount(root,
    h("p", {}, h("a", { href: "#/artifacts" }, "← Artifacts")),
    h("h1", { id: "title" }, meta.filename || meta.artifact_id),
    problem,
    h("div", { class: "two" },
      h("section", { class: "card stack" }, h("h2", {}, "Details"), details(meta)),
      h("section", { class: "card stack" }, h("h2", {}, "Preview"), shown)),
    actions(meta, problem),
    h("section", { class: "card stack" }, h("h2", {}, "Share"), share(meta, problem),
      visibility(meta, problem), collections(meta, problem)),
    h("section", { class: "card stack" }, h("h2", {}, "Edit"), editor(meta, problem)),
    h("div", { class: "two" },
      h("section", { class: "card stack" }, h("h2", {}, "Aspects"), aspects(meta)),
      h("section", { class: "card stack" }, h("h2", {}, "Provenance"), provenance(meta))),
    h("section", { class: "card stack" }, h("h2", {}, "Legal holds"), holds(meta)),
    h("section", { class: "card stack" }, h("h2", {}, "History"), history(meta)));
  preview(shown, meta).catch((err) => mount(shown, errorBox(err)));
}

function details(meta) {
  const rows = [
    ["Id", meta.artifact_id], ["Size", `${size(meta.bytes)} (${meta.bytes} bytes)`],
    ["Type", meta.mime], ["SHA-256", meta.sha256], ["Scope", meta.scope],
    ["Owner", meta.owner_id || "the application"], ["Session", meta.session_id],
    ["Stored", when(meta.stored_at)], ["Updated", when(meta.updated_at)],
    ["Expires", meta.expires_at ? when(meta.expires_at) : "never"],
    ["Retention", meta.retention_class ? `${meta.retention_class} until ${when(meta.retain_until)}` : "none"],
    ["Summary", meta.summary || ""], ["Version", meta.version],
  ];
  return h("dl", { class: "meta", id: "details" },
    rows.map(([label, value]) => [h("dt", {}, label), h("dd", { class: label === "SHA-256" ? "mono" : "" }, String(value ?? ""))]),
    h("dt", {}, "Last verified"), h("dd", { id: "verified" }, verified(meta)),
    h("dt", {}, "Metadata"), h("dd", {}, h("pre", { id: "custom" }, JSON.stringify(meta.meta || {}, null, 2))));
}

// When its bytes were last re-read and hashed (`satchel storage verify`): admins see those
// events; others are told so.
function verified(meta) {
  const who = principal();
  if (!who || !who.admin) return "shown to admins";
  const cell = h("span", {}, "…");
  api(`/v1/events${query({ type: "v1.storage.location_verified", subject: meta.sha256, limit: 1000, format: "json" })}`)
    .then((page) => {
      const last = page.events[page.events.length - 1];
      cell.textContent = !last ? "never" : last.payload.ok ? `${when(last.time)}, intact (${last.payload.backend})`
        : `${when(last.time)}, FAILED: ${last.payload.failure}`;
    }).catch((err) => { cell.textContent = err.message; });
  return cell;
}

async function download(meta) {
  const response = await fetch(path`/v1/artifacts/${meta.artifact_id}/content`, { headers: authHeaders() });
  if (!response.ok) throw Object.assign(new Error((await response.json()).message), { status: response.status });
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: (meta.filename || meta.artifact_id).split("/").pop() });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function actions(meta, problem) {
  const guarded = (work) => async () => {
    mount(problem);
    try { await work(); } catch (err) { mount(problem, errorBox(err)); }
  };
  const name = h("input", { name: "new_filename", value: meta.filename || "", size: 30 });
  return h("section", { class: "card row" },
    h("button", { type: "button", class: "primary", id: "download", onclick: guarded(() => download(meta)) }, "Download"),
    field("New name", name),
    h("button", { type: "button", id: "copy", onclick: guarded(async () => {
      const made = await api(path`/v1/artifacts/${meta.artifact_id}/copy`, { method: "POST", json: { new_filename: name.value } });
      toast("Copied");
      location.hash = `#/artifacts/${encodeURIComponent(made.artifact_id)}`;
    }) }, "Copy"),
    h("button", { type: "button", id: "move", onclick: guarded(async () => {
      await api(path`/v1/artifacts/${meta.artifact_id}/move`, { method: "POST", json: { new_filename: name.value } });
      toast("Renamed");
      location.reload();
    }) }, "Rename"),
    h("button", { type: "button", class: "danger", id: "delete", onclick: guarded(async () => {
      if (!confirm(`Delete ${meta.filename || meta.artifact_id}? This cannot be undone.`)) return;
      await api(path`/v1/artifacts/${meta.artifact_id}`, { method: "DELETE" });
      toast("Deleted");
      location.hash = "#/artifacts";
    }) }, "Delete"));
}

function share(meta, problem) {
  const expiry = h("select", { name: "expires" },
    EXPIRIES.map(([seconds, label]) => h("option", { value: seconds, selected: seconds === 3600 }, label)));
  const link = h("input", { id: "presigned", readonly: true, size: 60, placeholder: "no link yet" });
  const copy = h("button", { type: "button", disabled: true, onclick: async () => {
    link.select();
    try { await navigator.clipboard.writeText(link.value); toast("Link copied"); } catch { toast("Select the link and copy it"); }
  } }, "Copy link");
  return h("div", { class: "row" }, field("Valid for", expiry),
    h("button", { type: "button", id: "presign", onclick: async () => {
      mount(problem);
      try {
        const made = await api(path`/v1/artifacts/${meta.artifact_id}/presign`, { method: "POST", json: { expires: Number(expiry.value) } });
        link.value = made.url;
        copy.disabled = false;
      } catch (err) { mount(problem, errorBox(err)); }
    } }, "Make a link"), link, copy);
}

// Public: anyone who has the id or a link reads it, without a token (docs/sharing.md).
function visibility(meta, problem) {
  const open = meta.policy === "public";
  return h("div", { class: "row" },
    h("span", { id: "policy" }, open ? "Public: anyone with its link reads it, without a token"
      : "Private: readable within its scope only"),
    h("button", { type: "button", id: "toggle-policy", onclick: async () => {
      mount(problem);
      try {
        await api(path`/v1/artifacts/${meta.artifact_id}/policy`, { method: "PUT", json: { policy: open ? "private" : "public" } });
        toast(open ? "Now private" : "Now public");
        location.reload();
      } catch (err) { mount(problem, errorBox(err)); }
    } }, open ? "Make private" : "Make public"));
}

function collections(meta, problem) {
  const list = h("span", { id: "collections" }, "…");
  api(path`/v1/artifacts/${meta.artifact_id}/collections`)
    .then((found) => { list.textContent = found.collections.join(", ") || "none"; })
    .catch((err) => { list.textContent = err.message; });
  const name = h("input", { name: "collection", size: 20, placeholder: "collection name" });
  return h("div", { class: "row" }, h("span", {}, "Collections:"), list, field("Add to", name),
    h("button", { type: "button", id: "add-collection", onclick: async () => {
      mount(problem);
      try {
        await api(path`/v1/collections/${name.value}/add`, { method: "POST", json: { artifact_ids: [meta.artifact_id] } });
        toast(`Added to ${name.value}`);
        location.reload();
      } catch (err) { mount(problem, errorBox(err)); }
    } }, "Add"));
}

function editor(meta, problem) {
  const summary = h("input", { name: "summary", value: meta.summary || "", size: 40 });
  const custom = h("textarea", { name: "meta", spellcheck: "false" }, JSON.stringify(meta.meta || {}, null, 2));
  const ttl = h("input", { name: "ttl", placeholder: "seconds; none: keep", size: 18 });
  return h("form", { class: "stack", id: "edit", onsubmit: async (event) => {
    event.preventDefault();
    mount(problem);
    let parsed;
    try { parsed = JSON.parse(custom.value || "{}"); } catch (err) {
      mount(problem, errorBox({ status: 400, code: "invalid_request", message: `Metadata is not JSON: ${err.message}` }));
      return;
    }
    const body = { summary: summary.value, meta: parsed, merge: false };
    const raw = ttl.value.trim();
    if (raw) body.ttl = raw === "none" ? null : Number(raw);
    try {
      await api(path`/v1/artifacts/${meta.artifact_id}`, { method: "PATCH", json: body, headers: { "If-Match": meta.etag } });
      toast("Saved");
      location.reload();
    } catch (err) { mount(problem, errorBox(err)); }
  } },
  field("Summary", summary), field("Metadata (JSON)", custom), field("Expires in", ttl),
  h("button", { type: "submit", class: "primary" }, "Save"));
}

function aspects(meta) {
  const list = h("ul", { id: "aspects" }, h("li", { class: "muted" }, "Loading…"));
  api(`/v1/aspects${query({ entity: meta.artifact_id, limit: 50 })}`).then((page) => {
    mount(list, page.items.length ? page.items.map((aspect) => h("li", {},
      h("strong", {}, aspect.schema || "(no schema)"), " ", h("code", {}, JSON.stringify(aspect.content))))
      : h("li", { class: "muted" }, "None."));
  }).catch((err) => mount(list, h("li", {}, err.message)));
  return list;
}

function provenance(meta) {
  const box = h("div", { id: "lineage" }, h("p", { class: "muted" }, "Loading…"));
  Promise.all(["up", "down"].map((direction) =>
    api(`/v1/lineage${query({ entity: meta.artifact_id, direction, depth: 2 })}`))).then(([up, down]) => {
    const entry = (graph, relation, title) => {
      const edges = graph.edges.filter((edge) => edge.relation === relation && edge.entity === meta.artifact_id);
      return h("div", {}, h("h3", {}, title), edges.length ? h("ul", {}, edges.map((edge) => h("li", { class: "mono" }, edge.job)))
        : h("p", { class: "muted" }, "None."));
    };
    const inputs = up.nodes.filter((node) => node.kind === "entity" && node.id !== meta.artifact_id);
    const outputs = down.nodes.filter((node) => node.kind === "entity" && node.id !== meta.artifact_id);
    const linked = (nodes) => h("ul", {}, nodes.map((node) => h("li", {},
      h("a", { href: path`#/artifacts/${node.id}` }, node.id))));
    mount(box, entry(up, "produced-by", "Produced by"), entry(down, "used-by", "Used by"),
      inputs.length ? h("div", {}, h("h3", {}, "Made from"), linked(inputs)) : null,
      outputs.length ? h("div", {}, h("h3", {}, "Went into"), linked(outputs)) : null);
  }).catch((err) => mount(box, h("p", {}, err.message)));
  return box;
}

function holds(meta) {
  const list = h("ul", { id: "artifact-holds" }, h("li", { class: "muted" }, "Loading…"));
  api(path`/v1/artifacts/${meta.artifact_id}/holds` + query({ include_released: true })).then((page) => {
    mount(list, page.items.length ? page.items.map((hold) => h("li", {}, h("strong", {}, hold.name),
      ` — ${hold.reason}`, hold.released_at ? h("span", { class: "muted" }, ` (released ${when(hold.released_at)})`) : ""))
      : h("li", { class: "muted" }, "None."));
  }).catch((err) => mount(list, h("li", {}, err.message)));
  return list;
}

function history(meta) {
  const list = h("ol", { id: "history", class: "muted" }, h("li", {}, "Loading…"));
  api(path`/v1/artifacts/${meta.artifact_id}/history`).then((page) => {
    mount(list, page.items.map((event) => h("li", {}, `${when(event.time)} ${event.type}${event.actor ? ` by ${event.actor}` : ""}`)));
  }).catch((err) => mount(list, h("li", {}, err.message)));
  return list;
}
