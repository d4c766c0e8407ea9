// API keys (admins): create one (its token shown once), list, revoke.

import { api, path, query } from "./api.js";
import { errorBox } from "./errors.js";
import { field, h, mount, toast, when } from "./dom.js";

export async function keys(root) {
  const problem = h("div");
  const body = h("tbody");
  const user = h("input", { name: "key_user", required: true, placeholder: "alice" });
  const name = h("input", { name: "key_name", placeholder: "alice's agent" });
  const admin = h("input", { type: "checkbox", name: "key_admin" });
  const shown = h("div", { id: "new-token" });
  mount(root, h("h1", {}, "API keys"), problem,
    h("form", { class: "card row", id: "create-key", onsubmit: async (event) => {
      event.preventDefault();
      mount(problem);
      try {
        const made = await api("/v1/keys", { method: "POST", json: { user_id: user.value, name: name.value, admin: admin.checked } });
        mount(shown, h("div", { class: "card stack" },
          h("strong", {}, "The new key's token, shown only now: copy it."),
          h("input", { readonly: true, size: 60, value: made.token, id: "token-once" })));
        toast("Key created");
        await list(body, problem);
      } catch (err) { mount(problem, errorBox(err)); }
    } }, field("User", user), field("Name", name), h("label", {}, "Admin", admin),
    h("button", { type: "submit", class: "primary" }, "Create a key")),
    shown,
    h("div", { class: "table-wrap" }, h("table", { id: "keys" },
      h("thead", {}, h("tr", {}, ["Key", "User", "Name", "Admin", "Created", "Expires", ""].map((label) => h("th", {}, label)))),
      body)));
  await list(body, problem);
}

async function list(body, problem) {
  const page = await api(`/v1/keys${query({ include_revoked: false })}`);
  mount(body, page.items.length ? page.items.map((key) => h("tr", { dataset: { key: key.key_id } },
    h("td", { class: "mono" }, key.key_id), h("td", {}, key.user_id), h("td", {}, key.name || ""),
    h("td", {}, key.admin ? "yes" : ""), h("td", {}, when(key.created_at)),
    h("td", {}, key.expires_at ? when(key.expires_at) : "never"),
    h("td", {}, h("button", { type: "button", class: "danger", onclick: async () => {
      if (!confirm(`Revoke ${key.key_id}? Whoever uses it is refused at once.`)) return;
      try {
        await api(path`/v1/keys/${key.key_id}`, { method: "DELETE" });
        toast("Revoked");
        await list(body, problem);
      } catch (err) { mount(problem, errorBox(err)); }
    } }, "Revoke")))) : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No keys.")));
}
