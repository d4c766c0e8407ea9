// The pull-through cache: its remotes and their state, hit rates, cached files (paged), and
// prefetch (anyone signed in) and evict (admins).

import { api, path, query } from "./api.js";
import { errorBox } from "./errors.js";
import { field, h, mount, size, toast, when } from "./dom.js";
import { principal } from "./state.js";

export async function cache(root, params) {
  const problem = h("div");
  const [remotes, stats] = await Promise.all([api("/v1/proxy/remotes"), api("/v1/proxy/stats")]);
  const chosen = params.get("remote") || (remotes.remotes[0] && remotes.remotes[0].name) || "";
  mount(root, h("h1", {}, "Pull-through cache"), problem,
    h("div", { class: "table-wrap" }, h("table", { id: "remotes" },
      h("thead", {}, h("tr", {}, ["Remote", "Type", "State", "Hit rate", "Hits", "Misses", "Cached"].map((label) => h("th", {}, label)))),
      h("tbody", {}, remotes.remotes.length ? remotes.remotes.map((remote) => {
        const counts = stats.remotes[remote.name] || {};
        const state = remote.offline ? "offline" : remote.blocked_for ? `blocked for ${Math.ceil(remote.blocked_for)} s` : "ok";
        return h("tr", {},
          h("td", {}, h("a", { href: `#/cache${query({ remote: remote.name })}` }, remote.name)),
          h("td", {}, remote.type), h("td", {}, state),
          h("td", { class: "num" }, counts.hit_ratio === undefined || counts.hit_ratio === null ? "—" : `${Math.round(counts.hit_ratio * 100)} %`),
          h("td", { class: "num" }, counts.hits ?? 0), h("td", { class: "num" }, counts.misses ?? 0),
          h("td", { class: "num" }, `${counts.cached_files ?? 0} (${size(counts.cached_bytes ?? 0)})`));
      }) : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No remotes are configured (SATCHEL_REMOTES_FILE)."))))),
    chosen ? files(chosen, params, problem) : null);
}

function files(remote, params, problem) {
  const body = h("tbody", {}, h("tr", {}, h("td", { colspan: 5, class: "muted" }, "Loading…")));
  const pager = h("div", { class: "pager" });
  const wanted = h("input", { name: "prefetch_path", placeholder: "releases/v1.2/tool.tar.gz", size: 40, required: true });
  const admin = principal() && principal().admin;
  const section = h("section", { class: "card stack" }, h("h2", {}, `Cached files of ${remote}`),
    h("form", { class: "row", id: "prefetch", onsubmit: async (event) => {
      event.preventDefault();
      mount(problem);
      try {
        const done = await api("/cache-artifact", { method: "POST", json: { remote, paths: [wanted.value] } });
        const [result] = done.results;
        toast(`${result.path}: ${result.status}${result.error ? ` (${result.error})` : ""}`);
        await show();
      } catch (err) { mount(problem, errorBox(err)); }
    } }, field("Prefetch a path", wanted), h("button", { type: "submit" }, "Prefetch")),
    h("div", { class: "table-wrap" }, h("table", { id: "cached" },
      h("thead", {}, h("tr", {}, ["Path", "Size", "Fetched", "Fresh", ""].map((label) => h("th", {}, label)))), body)),
    pager);

  async function show() {
    const page = await api(path`/artifacts/${remote}` + query({ prefix: params.get("prefix"), after: params.get("after"), limit: 50 }));
    mount(body, page.items.length ? page.items.map((item) => h("tr", { dataset: { path: item.path } },
      h("td", {}, h("a", { href: path`#/artifacts/${item.artifact_id}` }, item.path)),
      h("td", { class: "num" }, size(item.bytes)), h("td", {}, when(item.fetched_at)),
      h("td", {}, item.fresh ? "yes" : "stale"),
      h("td", {}, admin ? h("button", { type: "button", class: "danger", onclick: async () => {
        try {
          await api(path`/artifacts/${remote}` + query({ path: item.path }), { method: "DELETE" });
          toast(`Evicted ${item.path}`);
          await show();
        } catch (err) { mount(problem, errorBox(err)); }
      } }, "Evict") : ""))) : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "Nothing cached yet.")));
    mount(pager, page.next ? h("a", { class: "button", href: `#/cache${query({ remote, after: page.next })}` }, "Next") : null);
  }
  show().catch((err) => mount(body, h("tr", {}, h("td", { colspan: 5 }, errorBox(err)))));
  return section;
}
