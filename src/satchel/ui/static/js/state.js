// What the views share: who is signed in (from /v1/whoami), and a signal that tells a view
// its page was left (a live view stops its requests).

let who = null;
let controller = new AbortController();

export function principal() { return who; }
export function remember(found) { who = found; }

export function viewSignal() { return controller.signal; }
export function newView() {
  controller.abort();
  controller = new AbortController();
}
