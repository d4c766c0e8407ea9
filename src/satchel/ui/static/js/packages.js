// Packages: the list, and one package with its manifest, retention, legal holds (applied and
// released with a reason, by admins) and history.

import { api, path, query } from "./api.js";
import { errorBox, showError } from "./errors.js";
import { field, h, mount, size, toast, when } from "./dom.js";
import { principal } from "./state.js";

const PAGE = 50;

export async function packages(root, params) {
  const name = h("input", { type: "search", name: "name", value: params.get("name") || "" });
  const state = h("select", { name: "state" }, ["", "open", "finalized"].map((value) =>
    h("option", { value, selected: value === (params.get("state") || "") }, value || "any")));
  const body = h("tbody");
  const pager = h("div", { class: "pager" });
  mount(root, h("h1", {}, "Packages"),
    h("form", { class: "row", role: "search", onsubmit: (event) => {
      event.preventDefault();
      location.hash = `#/packages${query({ name: name.value, state: state.value })}`;
    } }, field("Name", name), field("State", state), h("button", { type: "submit" }, "Search")),
    h("div", { class: "table-wrap" }, h("table", { id: "packages" },
      h("thead", {}, h("tr", {}, ["Name", "Version", "Producer", "Subject", "State", "Files", "Retained until"]
        .map((label) => h("th", {}, label)))), body)),
    pager);
  const page = await api(`/v1/packages${query({
    name: params.get("name"), state: params.get("state"), limit: PAGE, cursor: params.get("cursor"),
  })}`);
  mount(body, page.items.length ? page.items.map((item) => h("tr", {},
    h("td", {}, h("a", { href: path`#/packages/${item.package_id}` }, item.name)),
    h("td", {}, item.version || ""), h("td", {}, item.producer), h("td", {}, item.subject),
    h("td", {}, h("span", { class: "pill" }, item.state)), h("td", { class: "num" }, item.file_count),
    h("td", {}, when(item.retain_until)))) : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No packages.")));
  if (page.next_cursor) {
    mount(pager, h("a", { class: "button", href: `#/packages${query({ name: params.get("name"), state: params.get("state"), cursor: page.next_cursor })}` }, "Next"));
  }
}

export async function onePackage(root, id) {
  let found;
  try {
    found = await api(path`/v1/packages/${id}`);
  } catch (err) {
    showError(root, err);
    return;
  }
  const problem = h("div");
  const holds = h("div", { id: "holds" });
  mount(root, h("p", {}, h("a", { href: "#/packages" }, "← Packages")),
    h("h1", {}, `${found.name}${found.version ? `@${found.version}` : ""}`), problem,
    h("div", { class: "two" },
      h("section", { class: "card" }, h("h2", {}, "Package"), h("dl", { class: "meta", id: "package" },
        [["Id", found.package_id], ["State", found.state], ["Producer", found.producer], ["Subject", found.subject],
          ["Scope", found.scope], ["Files", `${found.file_count} (${size(found.total_bytes)})`],
          ["Manifest", found.manifest_address || "not yet (open)"], ["Retention class", found.retention_class],
          ["Retained until", when(found.retain_until) || "—"], ["Mode", found.retention_mode || "—"],
          ["Created", when(found.created_at)], ["Finalized", when(found.finalized_at) || "—"]]
          .map(([label, value]) => [h("dt", {}, label), h("dd", { class: label === "Manifest" ? "mono" : "" }, String(value ?? ""))]))),
      h("section", { class: "card stack" }, h("h2", {}, "Legal holds"), holds)),
    h("section", { class: "card" }, h("h2", {}, "Files"), files(id)),
    h("section", { class: "card" }, h("h2", {}, "History"), history(id)));
  await showHolds(holds, id, problem);
}

function files(id) {
  const body = h("tbody", {}, h("tr", {}, h("td", { colspan: 4, class: "muted" }, "Loading…")));
  api(path`/v1/packages/${id}/files`).then((page) => mount(body, page.items.map((file) => h("tr", {},
    h("td", {}, file.relative_path), h("td", { class: "num" }, size(file.size)),
    h("td", { class: "mono hide-narrow" }, file.media_type), h("td", { class: "mono" }, file.sha256)))))
    .catch((err) => mount(body, h("tr", {}, h("td", { colspan: 4 }, err.message))));
  return h("div", { class: "table-wrap" }, h("table", { id: "files" },
    h("thead", {}, h("tr", {}, ["Path", "Size", "Type", "SHA-256"].map((label) => h("th", {}, label)))), body));
}

function history(id) {
  const list = h("ol", { class: "muted", id: "history" }, h("li", {}, "Loading…"));
  api(path`/v1/packages/${id}/history`).then((page) => mount(list, page.items.map((event) =>
    h("li", {}, `${when(event.time)} ${event.type}${event.actor ? ` by ${event.actor}` : ""}`))))
    .catch((err) => mount(list, h("li", {}, err.message)));
  return list;
}

async function showHolds(root, id, problem) {
  const page = await api(path`/v1/packages/${id}/holds` + query({ include_released: true }));
  const admin = principal() && principal().admin;
  const rows = page.items.map((hold) => h("li", { dataset: { hold: hold.hold_id } },
    h("strong", {}, hold.name), ` — ${hold.reason} (${when(hold.applied_at || hold.created_at)})`,
    hold.released_at ? h("span", { class: "muted" }, ` released ${when(hold.released_at)}: ${hold.release_reason || ""}`)
      : admin ? releaseForm(hold, id, root, problem) : null));
  const name = h("input", { name: "hold_name", required: true, placeholder: "case-1234" });
  const reason = h("input", { name: "hold_reason", required: true, placeholder: "why" });
  mount(root, rows.length ? h("ul", {}, rows) : h("p", { class: "muted" }, "No holds."),
    admin ? h("form", { class: "row", id: "apply-hold", onsubmit: async (event) => {
      event.preventDefault();
      mount(problem);
      try {
        await api(path`/v1/packages/${id}/holds`, { method: "POST", json: { name: name.value, reason: reason.value } });
        toast("Hold applied");
        await showHolds(root, id, problem);
      } catch (err) { mount(problem, errorBox(err)); }
    } }, field("Hold", name), field("Reason", reason), h("button", { type: "submit" }, "Apply a hold"))
      : h("p", { class: "muted" }, "Admins apply and release holds."));
}

function releaseForm(hold, id, root, problem) {
  const reason = h("input", { name: "release_reason", required: true, placeholder: "why" });
  return h("form", { class: "row release", onsubmit: async (event) => {
    event.preventDefault();
    mount(problem);
    try {
      await api(path`/v1/holds/${hold.hold_id}/release`, { method: "POST", json: { reason: reason.value } });
      toast("Hold released");
      await showHolds(root, id, problem);
    } catch (err) { mount(problem, errorBox(err)); }
  } }, reason, h("button", { type: "submit" }, "Release"));
}
