// The dashboard: health of each part, storage verification, and usage by scope (admins).

import { api } from "./api.js";
import { errorBox } from "./errors.js";
import { h, mount, size } from "./dom.js";
import { principal } from "./state.js";

export async function dashboard(root) {
  const checks = h("div", { id: "health" }, "Loading…");
  const usage = h("div", { id: "usage" });
  mount(root, h("h1", {}, "Dashboard"),
    h("div", { class: "two" }, h("section", { class: "card" }, h("h2", {}, "Health"), checks),
      h("section", { class: "card" }, h("h2", {}, "Usage"), usage)));
  const response = await fetch("/health", { cache: "no-store" });
  const health = await response.json();
  mount(checks, h("p", {}, "Status: ", h("strong", { class: health.status === "ok" ? "ok" : "bad" }, health.status),
    ` · version ${health.version} · sandbox ${health.sandbox_id}`),
  h("dl", { class: "meta" }, Object.entries(health.checks || {}).map(([part, found]) => [
    h("dt", {}, part),
    h("dd", {}, `${found.status}${describe(part, found)}`)])));
  if (!principal() || !principal().admin) {
    mount(usage, h("p", { class: "muted" }, "Usage by scope is shown to admins."));
    return;
  }
  try {
    const stats = await api("/v1/admin/stats");
    mount(usage, h("table", { id: "by-scope" },
      h("thead", {}, h("tr", {}, h("th", {}, "Scope"), h("th", { class: "num" }, "Artifacts"), h("th", { class: "num" }, "Bytes"))),
      h("tbody", {}, Object.entries(stats.by_scope).map(([scope, used]) => h("tr", {},
        h("td", {}, scope), h("td", { class: "num" }, used.artifacts), h("td", { class: "num" }, size(used.bytes))))),
      h("tfoot", {}, h("tr", {}, h("th", {}, "stored once"), h("td", { class: "num" }, `${stats.unique_blobs} blobs`),
        h("td", { class: "num" }, size(stats.stored_bytes))))));
  } catch (err) { mount(usage, errorBox(err)); }
}

function describe(part, found) {
  if (part === "integrity") return ` · ${found.failed_blobs} blobs failed verification`;
  if (part === "storage") return ` · ${found.backend}${found.blobs !== undefined ? `, ${found.blobs} blobs` : ""}`;
  if (part === "catalog") return ` · ${found.dialect}`;
  if (part === "disk" && found.free_bytes !== undefined) return ` · ${size(found.free_bytes)} free`;
  return found.provider ? ` · ${found.provider}` : "";
}
