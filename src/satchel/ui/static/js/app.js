// The UI's entry: the hash routes, the signed-in principal in the header, the theme.

import { ApiError, api, session } from "./api.js";
import { artifact } from "./artifact.js";
import { browse } from "./browse.js";
import { showError } from "./errors.js";
import { signin } from "./signin.js";
import { cache } from "./cache.js";
import { dashboard } from "./dashboard.js";
import { events } from "./events.js";
import { keys } from "./keys.js";
import { onePackage, packages } from "./packages.js";
import { newView, remember } from "./state.js";
import { upload } from "./upload.js";
import { webhooks } from "./webhooks.js";

const main = document.getElementById("main");
const THEME = "satchel.theme";

const ROUTES = [
  [/^\/artifacts\/([^/]+)$/, (params, id) => artifact(main, decodeURIComponent(id))],
  [/^\/artifacts$/, (params) => browse(main, params)],
  [/^\/upload$/, () => upload(main)],
  [/^\/packages\/([^/]+)$/, (params, id) => onePackage(main, decodeURIComponent(id))],
  [/^\/packages$/, (params) => packages(main, params)],
  [/^\/events$/, (params) => events(main, params)],
  [/^\/keys$/, () => keys(main)],
  [/^\/cache$/, (params) => cache(main, params)],
  [/^\/webhooks$/, () => webhooks(main)],
  [/^\/dashboard$/, () => dashboard(main)],
];

function parse() {
  const raw = location.hash.replace(/^#/, "") || "/artifacts";
  const [route, search = ""] = raw.split("?");
  return { route: route === "/" ? "/artifacts" : route, params: new URLSearchParams(search) };
}

async function whoami() {
  const who = await api("/v1/whoami");
  remember(who);
  const label = who.admin ? `${who.user_id || who.name || "admin"} (admin)` : who.user_id;
  document.getElementById("whoami").textContent = `${label} · sandbox ${who.sandbox_id}`;
  document.getElementById("nav").hidden = false;
  for (const link of document.querySelectorAll("#nav [data-admin]")) link.hidden = !who.admin;
  document.getElementById("signout").hidden = false;
  return who;
}

function signedOut() {
  remember(null);
  document.getElementById("whoami").textContent = "";
  document.getElementById("nav").hidden = true;
  document.getElementById("signout").hidden = true;
}

async function render() {
  newView();
  const { route, params } = parse();
  if (route === "/signin" || !session.token) {
    signedOut();
    await signin(main, { notice: params.get("notice") });
    return;
  }
  for (const link of document.querySelectorAll("#nav a")) {
    link.toggleAttribute("aria-current", route.startsWith(link.getAttribute("href").slice(1)));
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  try {
    await whoami();
    const match = ROUTES.map(([pattern, view]) => [route.match(pattern), view]).find(([found]) => found);
    if (!match) throw new ApiError(404, "not_found", `There is no page ${route} here.`);
    await match[1](params, ...match[0].slice(1));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      session.clear();
      location.hash = "#/signin?notice=Your+token+was+not+accepted%3B+sign+in+again.";
      return;
    }
    showError(main, err);
  }
  main.focus({ preventScroll: true });
}

function theme() {
  const saved = localStorage.getItem(THEME);
  if (saved) document.documentElement.dataset.theme = saved;
  document.getElementById("theme").addEventListener("click", () => {
    const dark = document.documentElement.dataset.theme === "dark" ||
      (!document.documentElement.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
    document.documentElement.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem(THEME, document.documentElement.dataset.theme);
  });
}

document.getElementById("signout").addEventListener("click", () => {
  session.clear();
  location.hash = "#/signin";
});
document.querySelector("a.skip").addEventListener("click", (event) => {
  event.preventDefault(); // the hash is the router's: focus the content instead of navigating
  main.focus();
});
window.addEventListener("hashchange", render);
theme();
render();
