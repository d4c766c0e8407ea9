"""``satchel ls`` against a server, answered without typer, pydantic or httpx (their imports
alone took most of half a second): the options read here as click reads them, the pages fetched
with the standard library's HTTP client, everything else :mod:`satchel.cli.lsview`, which the
typer command (:mod:`satchel.cli.listing`) runs too. Same output, same errors, same exit status.

What this does not handle goes to the full command line, whole (:func:`answer` returns None):
options it does not know or that click would refuse (``--help``, a bad ``--limit``), no server
and token named by the options or the environment (``./.env`` is the settings' to read, and no
server means the embedded store), a URL other than plain ``http://host[:port][/path]``, proxy
variables, shell completion. And what it does not expect of a request (a refused connection, a
timeout, a redirect, an answer not of the expected shape) goes to the client library from that
request on, which asks again and answers or fails in its own words (so a server that never
answers is waited for twice, 60 s each, before the client's timeout error).
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import re
import sys
from contextlib import ExitStack
from typing import Any
from urllib.parse import quote, urlencode

from satchel.cli.base import open_store, print_error, report_error
from satchel.cli.lsview import LibrarySource, Page, Query, UsageError, finish, show_pages
from satchel.config_env import from_environment
from satchel.core.errors import ArtifactStoreError, error_for_answer
from satchel.core.queries import Query as Params
from satchel.core.queries import search_query, session_query

__all__ = ["ARTIFACT_FIELDS", "FLAGS", "LIMIT", "OPTIONS", "VALUE_OPTIONS", "answer"]

# ls's options as typer declares them (tests/cli/test_fastls.py holds these to the command)
VALUE_OPTIONS = {
    "--session": "session",
    "--user": "user",
    "--scope": "scope",
    "--name": "name",
    "--prefix": "prefix",
    "--mime": "mime",
    "--mime-prefix": "mime",
    "--collection": "collection",
    "--sort": "sort",
    "--limit": "limit",
    "--cursor": "cursor",
    "--url": "url",
    "--token": "token",
}
FLAGS = {
    "--reverse": "reverse",
    "-r": "reverse",
    "--long": "long",
    "-l": "long",
    "--quiet": "ids_only",
    "-q": "ids_only",
    "--all": "every",
    "-a": "every",
    "--json": "as_json",
}
OPTIONS: dict[str, Any] = {  # each option's default
    **dict.fromkeys(VALUE_OPTIONS.values()),
    **dict.fromkeys(FLAGS.values(), False),
    "sort": "time",
    "limit": 100,
}
LIMIT = (1, 1000)

# The fields of an artifact's JSON object, in order (ArtifactMetadata's; a test holds them to it):
# an answer whose items have others is the client library's to read (and refuse).
ARTIFACT_FIELDS = (
    *("artifact_id", "session_id", "sandbox_id", "scope", "owner_id", "filename", "mime"),
    *("summary", "meta", "bytes", "sha256", "etag", "version", "key", "stored_at"),
    *("updated_at", "expires_at", "ttl", "storage_provider", "session_provider"),
    *("retention_class", "retain_until", "policy"),
)

_TIMEOUT = 60.0  # seconds, the remote client's default
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]"
_PLAIN_URL = re.compile(rf"http://({_HOST})(?::([0-9]{{1,5}}))?((?:/[A-Za-z0-9._~-]+)*)")
_PROXY_VARIABLES = ("http_proxy", "all_proxy")


def answer(argv: list[str]) -> int | None:
    """The exit status of ``satchel ls ARGV`` answered here, or None (nothing done) when it is
    the full command line's to answer."""
    options = _options(argv)
    if options is None or _configured_otherwise():
        return None
    url, token = from_environment(options.pop("url"), options.pop("token"))
    server = _Server.of(url, token) if url and token else None
    if server is None:
        return None
    try:
        return _ls(server, **options)
    except KeyboardInterrupt:
        return 130  # as click ends on ^C: no message
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # the reader went away; click ends quietly, status 1
            _quiet_closed_streams()
            return 1
        return report_error(exc)
    except ArtifactStoreError as exc:
        return report_error(exc)


def _ls(
    server: _Server,
    *,
    cursor: str | None,
    every: bool,
    as_json: bool,
    ids_only: bool,
    long: bool,
    **options: Any,
) -> int:
    try:
        query = Query.of(**options)
    except UsageError as exc:
        print_error(str(exc))
        return 2
    source = _LeanSource(server)
    try:
        more, shown = show_pages(
            query, source, cursor, every=every, as_json=as_json, ids_only=ids_only, long=long
        )
    finally:
        source.close()
    finish(more, shown, as_json=as_json, ids_only=ids_only)
    return 0


def _options(argv: list[str]) -> dict[str, Any] | None:
    """``ls``'s options as click reads *argv* (a value option takes the next argument whatever
    it is, or its ``=value``; the last one given counts; short flags combine: ``-lr``), or None
    for anything else."""
    options = dict(OPTIONS)
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        name, equals, inline = arg.partition("=")
        if arg.startswith("--") and name in VALUE_OPTIONS:
            if not equals and not rest:
                return None  # a value option without its value
            options[VALUE_OPTIONS[name]] = inline if equals else rest.pop(0)
        elif arg in FLAGS:
            options[FLAGS[arg]] = True
        elif re.fullmatch("-[a-z]{2,}", arg) and all(f"-{c}" in FLAGS for c in arg[1:]):
            options.update((FLAGS[f"-{c}"], True) for c in arg[1:])
        else:
            return None
    limit = options["limit"]
    if isinstance(limit, str):  # given: click's IntRange takes a number in LIMIT
        if not (limit.isascii() and limit.isdigit() and LIMIT[0] <= int(limit) <= LIMIT[1]):
            return None
        options["limit"] = int(limit)
    return options


def _configured_otherwise() -> bool:
    """Shell completion asked for (``_SATCHEL_COMPLETE``), or a proxy the client would use."""
    return any(
        (name.startswith("_") and name.endswith("_COMPLETE"))
        or (name.lower() in _PROXY_VARIABLES and value)
        for name, value in os.environ.items()
    )


def _quiet_closed_streams() -> None:
    """After a write to a closed pipe: the interpreter's last flush must not complain of it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


class _Surprise(Exception):
    """A request or answer that is the client library's to handle."""


class _Server:
    """The listing of one server, fetched with :mod:`http.client` (one connection, kept)."""

    def __init__(self, url: str, token: str, host: str, port: int, path: str) -> None:
        self.url = url
        self.token = token
        self.host = host
        self.port = port
        self.path = f"{path}/v1/artifacts"
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "*/*"}
        self._connection: http.client.HTTPConnection | None = None

    @classmethod
    def of(cls, url: str, token: str) -> _Server | None:
        """The server at *url*, if it is plain ``http://`` (host, port, path) and the token
        plain ASCII; else None."""
        url = url.rstrip("/")  # as the remote client takes it
        plain = _PLAIN_URL.fullmatch(url)
        if plain is None or not re.fullmatch("[!-~]+", token):
            return None
        host, port, path = plain.groups()
        segments = path.split("/")[1:]
        if (port is not None and int(port) > 65535) or {".", ".."} & set(segments):
            return None
        return cls(url, token, host, int(port or 80), path)

    def fetch(self, params: Params) -> Page:
        """One page of the listing; an error answer raised as the client raises it."""
        try:
            target = f"{self.path}?{urlencode(params, quote_via=quote)}"
        except UnicodeEncodeError as exc:  # not UTF-8: the client refuses it in its words
            raise _Surprise from exc
        try:
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=_TIMEOUT
                )
            self._connection.request("GET", target, headers=self.headers)
            response = self._connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise _Surprise from exc
        if response.getheader("Content-Encoding", "identity").lower() != "identity":
            raise _Surprise
        if response.status >= 400:
            raise error_for_answer(response.status, _json(body), self.path)
        page = _page(_json(body)) if response.status == 200 else None
        if page is None:
            raise _Surprise
        return page

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _page(answer: Any) -> Page | None:
    """A listing's ``{items, next_cursor}`` as a page, if that is what *answer* is."""
    if not isinstance(answer, dict) or list(answer) != ["items", "next_cursor"]:
        return None
    items, cursor = answer["items"], answer["next_cursor"]
    if not isinstance(items, list) or not (cursor is None or isinstance(cursor, str)):
        return None
    if not all(isinstance(item, dict) and tuple(item) == ARTIFACT_FIELDS for item in items):
        return None
    return Page(items, cursor)


class _LeanSource:
    """Pages from :class:`_Server` until it meets a surprise, then from the client library
    (that request again, and the rest)."""

    def __init__(self, server: _Server) -> None:
        self.server = server
        self._library: LibrarySource | None = None
        self._opened = ExitStack()

    def search(self, **query: Any) -> Page:
        if self._library is None:
            try:
                return self.server.fetch(search_query(**query))
            except _Surprise:
                self._library = self._open_library()
        return self._library.search(**query)

    def list_by_session(
        self, session_id: str, limit: int, *, cursor: str | None, user_id: str | None, order: str
    ) -> Page:
        if self._library is None:
            try:
                params = session_query(
                    session_id, limit=limit, cursor=cursor, user_id=user_id, order=order
                )
                return self.server.fetch(params)
            except _Surprise:
                self._library = self._open_library()
        return self._library.list_by_session(
            session_id, limit, cursor=cursor, user_id=user_id, order=order
        )

    def _open_library(self) -> LibrarySource:
        self.server.close()
        opened = open_store(self.server.url, self.server.token)
        return LibrarySource(self._opened.enter_context(opened))

    def close(self) -> None:
        self.server.close()
        self._opened.close()
