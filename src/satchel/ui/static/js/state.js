// Who is signed in (from /v1/whoami), shared by the views.

let who = null;

export function principal() { return who; }
export function remember(found) { who = found; }
