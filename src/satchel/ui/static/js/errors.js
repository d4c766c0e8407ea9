// Errors as readable pages: the error tree's status and message, never a blank page.

import { h, mount } from "./dom.js";

const TITLES = {
  0: "Satchel did not answer",
  400: "That request was not valid",
  401: "Sign in again",
  403: "You may not do that",
  404: "Not found",
  409: "That conflicts with what is there",
  410: "That has expired",
  412: "It changed meanwhile",
  413: "Too large",
  429: "Too many requests",
  507: "The store is full",
};

export function errorTitle(err) {
  if (TITLES[err.status]) return TITLES[err.status];
  return err.status >= 500 ? "The server failed" : "Something went wrong";
}

export function errorBox(err) {
  const status = err.status ? `${err.status} ${err.code || ""}`.trim() : err.code || "";
  return h("section", { class: "error", role: "alert" },
    h("h1", {}, errorTitle(err)),
    h("p", {}, err.message || String(err)),
    status ? h("p", { class: "muted mono" }, status) : null);
}

export function showError(root, err) {
  mount(root, errorBox(err), h("p", {}, h("a", { href: "#/artifacts" }, "Back to the artifacts")));
}
