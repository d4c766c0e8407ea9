"""The pull-through cache's remotes (seed 003's ``remotes.yaml``): what each may fetch, from
where, and for how long a cached file stays fresh.

A file names remotes under ``remotes:``. A ``remote`` remote fetches from its ``base_url`` the
paths that match one of its ``include_patterns`` (Python regular expressions, matched against the
whole path); a ``local`` remote holds uploaded files only. ``package`` (``generic``, ``alpine``,
``rpm``) decides which paths are index files (``APKINDEX.tar.gz``; ``repomd.xml`` and the other
repodata files): those stay fresh for ``cache.index_ttl`` seconds, other files for
``cache.file_ttl`` (0: forever). Every error names the remote and the key it is about.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from pathlib import Path
from typing import Any

from satchel.core.errors import InvalidRequestError

__all__ = [
    "PACKAGES",
    "CacheRules",
    "Remote",
    "RemoteAuth",
    "RemotesError",
    "check_proxy_path",
    "checksum_from",
    "is_index_file",
    "load_remotes",
    "parse_remotes",
    "public_url",
]

PACKAGES = ("generic", "alpine", "rpm")
KINDS = ("remote", "local")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}\Z")
_MAX_PATTERNS = 200
_MAX_PATH_BYTES = 896  # the cached artifact is named "{remote}/{path}" (filenames: 1024)
_RPM_INDEX = re.compile(
    r"(^|/)repodata/(repomd\.xml(\.asc|\.key)?|[^/]*-(primary|filelists|other|comps|updateinfo|"
    r"modules|prestodelta|group|deltainfo)[^/]*\.(xml|sqlite)(\.(gz|bz2|xz|zst))?)\Z"
)


class RemotesError(InvalidRequestError):
    """A remotes file that cannot be used: the message names the remote and the key."""


@dataclasses.dataclass(frozen=True, slots=True)
class CacheRules:
    file_ttl: int = 0
    index_ttl: int = 0
    not_found_ttl: int = 60
    max_bytes: int = 0
    """The remote's byte budget (0: none): least recently used files go first."""
    pin_patterns: tuple[re.Pattern[str], ...] = ()
    """Paths never evicted to keep within a budget."""

    def pinned(self, path: str) -> bool:
        return any(pattern.search(path) for pattern in self.pin_patterns)


_DEFAULT_RULES = CacheRules()
_NUMERIC_RULES = ("file_ttl", "index_ttl", "not_found_ttl", "max_bytes")


@dataclasses.dataclass(frozen=True, slots=True)
class RemoteAuth:
    """How to sign in to a remote: ``bearer`` (``token``) or ``basic`` (``username``,
    ``password``). Secrets are ``env:NAME`` / ``file:PATH`` references, resolved when the store
    starts; the username may be plain text."""

    kind: str
    token: str | None = None
    username: str | None = None
    password: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Remote:
    name: str
    kind: str
    package: str
    base_url: str | None
    description: str
    include_patterns: tuple[re.Pattern[str], ...]
    cache: CacheRules
    redirect_hosts: tuple[str, ...] = ()
    """Hosts (besides base_url's) a redirect may lead to: GitHub's release downloads go to
    objects.githubusercontent.com."""
    max_file_bytes: int | None = None
    offline: bool = False
    """Set on purpose: nothing is fetched; cached copies are served, however old."""
    auth: RemoteAuth | None = None
    checksum_suffix: str | None = None
    """A checksum file next to each file (``.sha256``: ``tool.tar.gz.sha256``, sha256sum's
    format or a bare digest): when upstream has one, the download must hash to it."""

    def may_redirect_to(self, url: str) -> bool:
        """Whether a redirect to *url* may be followed (http(s), to base_url's host or a
        listed one; https never drops to http)."""
        assert self.base_url is not None
        base = urllib.parse.urlsplit(self.base_url)
        target = urllib.parse.urlsplit(url)
        if target.scheme not in ("http", "https") or not target.hostname:
            return False
        if base.scheme == "https" and target.scheme != "https":
            return False
        host = target.hostname.lower()
        return host == (base.hostname or "").lower() or host in self.redirect_hosts

    def allows(self, path: str) -> bool:
        """Whether *path* matches an include pattern (a local remote takes any path)."""
        if self.kind == "local":
            return True
        return any(pattern.fullmatch(path) for pattern in self.include_patterns)

    def ttl_of(self, path: str) -> int:
        """Seconds a cached copy of *path* stays fresh (0: forever)."""
        return self.cache.index_ttl if is_index_file(self.package, path) else self.cache.file_ttl

    def upstream_url(self, path: str) -> str:
        assert self.base_url is not None
        return self.base_url.rstrip("/") + "/" + urllib.parse.quote(path, safe="/-._~@:")

    def describe(self) -> dict[str, Any]:
        """The remote as ``GET /config`` shows it."""
        return {
            "type": self.kind,
            "package": self.package,
            "base_url": self.base_url,
            "description": self.description,
            "include_patterns": [pattern.pattern for pattern in self.include_patterns],
            "cache": {
                **{key: getattr(self.cache, key) for key in _NUMERIC_RULES},
                "pin_patterns": [pattern.pattern for pattern in self.cache.pin_patterns],
            },
            "redirect_hosts": list(self.redirect_hosts),
            "max_file_bytes": self.max_file_bytes,
            "offline": self.offline,
            "auth": None if self.auth is None else {"type": self.auth.kind},  # never secrets
            "checksum_suffix": self.checksum_suffix,
        }


def public_url(url: str) -> str:
    """*url* as it may be shown (events, metadata, errors): without a query, which after a
    redirect often carries a signature (GitHub's release downloads), or a fragment."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def is_index_file(package: str, path: str) -> bool:
    """Whether *path* is a repository index of a *package* remote (kept ``index_ttl``)."""
    if package == "alpine":
        return path.rsplit("/", 1)[-1] == "APKINDEX.tar.gz"
    if package == "rpm":
        return _RPM_INDEX.search(path) is not None
    return False


def check_proxy_path(value: str) -> str:
    """A path below a remote: relative, no ``.``/``..`` or empty segments, no backslash or
    control characters (after the URL's decoding, so encoded traversal is refused too)."""
    if not value or len(value.encode("utf-8", "surrogatepass")) > _MAX_PATH_BYTES:
        raise InvalidRequestError(f"the path must be 1 to {_MAX_PATH_BYTES} bytes")
    if any(ord(c) < 32 or c in "\x7f\\" or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise InvalidRequestError("the path contains control characters or backslashes")
    if value.startswith("/") or any(part in ("", ".", "..") for part in value.split("/")):
        raise InvalidRequestError("the path must be relative, without '.', '..' or '//'")
    if any(len(part.encode("utf-8")) > 255 for part in value.split("/")):
        raise InvalidRequestError("a path segment is longer than 255 bytes")
    if "%" in value and urllib.parse.unquote(value) != value:
        raise InvalidRequestError("the path is encoded twice")
    return value


def load_remotes(path: Path) -> dict[str, Remote]:
    """The remotes of the YAML file at *path*; RemotesError naming what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RemotesError(f"{path}: cannot be read: {exc}") from None
    import yaml  # (here: clients that never read a remotes file start without it)

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RemotesError(f"{path}: not valid YAML: {exc}") from None
    return parse_remotes(document, where=str(path))


def parse_remotes(document: object, *, where: str = "remotes") -> dict[str, Remote]:
    if document is None:
        return {}
    if not isinstance(document, dict) or set(document) - {"remotes"}:
        raise RemotesError(f"{where}: the top level has one key, 'remotes'")
    remotes = document.get("remotes")
    if remotes is None:
        return {}
    if not isinstance(remotes, dict):
        raise RemotesError(f"{where}: 'remotes' maps remote names to their settings")
    return {str(name): _remote(str(name), settings, where) for name, settings in remotes.items()}


def _remote(name: str, settings: object, where: str) -> Remote:
    def fail(key: str, problem: str) -> RemotesError:
        return RemotesError(f"{where}: remote {name!r}: {key}: {problem}")

    if not _NAME.match(name):
        raise fail("name", "lower-case letters, digits, '.', '_' and '-' (at most 63)")
    if not isinstance(settings, dict):
        raise fail("settings", "a mapping of base_url, type, package, …")
    known = {"base_url", "type", "package", "description", "include_patterns", "cache"}
    known |= {"redirect_hosts", "max_file_bytes", "offline", "auth", "checksum_suffix"}
    if unknown := sorted(set(map(str, settings)) - known):
        raise fail(unknown[0], f"unknown key (known: {', '.join(sorted(known))})")
    kind = settings.get("type", "remote")
    if kind not in KINDS:
        raise fail("type", f"one of {', '.join(KINDS)}, not {kind!r}")
    package = settings.get("package", "generic")
    if package not in PACKAGES:
        raise fail("package", f"one of {', '.join(PACKAGES)}, not {package!r}")
    description = settings.get("description") or ""
    if not isinstance(description, str):
        raise fail("description", "text")
    base_url = settings.get("base_url")
    if kind == "remote":
        base_url = _base_url(base_url, fail)
    elif base_url is not None:
        raise fail("base_url", "a local remote has none (it holds uploads)")
    return Remote(
        name=name,
        kind=kind,
        package=package,
        base_url=base_url,
        description=description,
        include_patterns=_patterns(settings.get("include_patterns"), kind, fail),
        cache=_cache(settings.get("cache"), fail),
        redirect_hosts=_hosts(settings.get("redirect_hosts"), fail),
        max_file_bytes=_positive(settings.get("max_file_bytes"), "max_file_bytes", fail),
        offline=_flag(settings.get("offline", False), "offline", fail),
        auth=_auth(settings.get("auth"), fail),
        checksum_suffix=_suffix(settings.get("checksum_suffix"), fail),
    )


def _suffix(value: object, fail: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\.[A-Za-z0-9._-]{1,31}", value):
        raise fail("checksum_suffix", f"a file name ending such as '.sha256', not {value!r}")
    return value


_HEX = re.compile(r"(?<![0-9a-fA-F])([0-9a-fA-F]{64})(?![0-9a-fA-F])")


def checksum_from(text: str, filename: str) -> str | None:
    """``sha256:<hex>`` a checksum file gives for *filename*: the line naming it (sha256sum's
    ``<hex>  <name>`` or ``*<name>``), else the only digest in the file; None when it says
    nothing usable."""
    found = []
    for line in text.splitlines():
        match = _HEX.search(line)
        if match is None:
            continue
        rest = line[match.end() :].strip().lstrip("*").strip()
        if rest and rest.rsplit("/", 1)[-1] == filename:
            return f"sha256:{match.group(1).lower()}"
        if not rest:
            found.append(match.group(1).lower())
    return f"sha256:{found[0]}" if len(found) == 1 else None


_REFERENCE = re.compile(r"(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)\Z")


def _auth(value: object, fail: Any) -> RemoteAuth | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise fail(
            "auth", "a mapping: type bearer with token, or type basic with username and password"
        )
    kind = value.get("type")
    wanted = {"bearer": {"type", "token"}, "basic": {"type", "username", "password"}}
    if kind not in wanted:
        raise fail("auth.type", f"bearer or basic, not {kind!r}")
    if unknown := sorted(set(map(str, value)) - wanted[kind]):
        raise fail(f"auth.{unknown[0]}", f"not a key of {kind} auth")
    secrets = ("token",) if kind == "bearer" else ("password",)
    for key in secrets:
        reference = value.get(key)
        if not isinstance(reference, str) or not _REFERENCE.match(reference):
            raise fail(f"auth.{key}", "env:NAME or file:PATH (never the secret itself)")
    username = value.get("username")
    if kind == "basic" and (
        not isinstance(username, str)
        or not username
        or (":" in username and not _REFERENCE.match(username))
    ):
        raise fail("auth.username", "a user name without ':' (or an env:/file: reference)")
    return RemoteAuth(
        kind=kind,
        token=value.get("token"),
        username=username,
        password=value.get("password"),
    )


def _hosts(value: object, fail: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(host, str) for host in value):
        raise fail("redirect_hosts", "a list of host names")
    for index, host in enumerate(value):
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", host):
            raise fail(f"redirect_hosts[{index}]", f"a host name, not {host!r}")
    return tuple(host.lower() for host in value)


def _positive(value: object, key: str, fail: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise fail(key, f"a whole number above 0, not {value!r}")
    return value


def _flag(value: object, key: str, fail: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(key, f"true or false, not {value!r}")
    return value


def _base_url(value: object, fail: Any) -> str:
    if not isinstance(value, str) or not value:
        raise fail("base_url", "required for a remote of type 'remote'")
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail("base_url", f"an absolute http(s) URL, not {value!r}")
    if parts.query or parts.fragment:
        raise fail("base_url", "no query or fragment")
    if parts.username is not None or parts.password is not None:
        raise fail("base_url", "no user or password in the URL: use auth (env:/file: references)")
    return value


def _patterns(
    value: object, kind: str, fail: Any, *, key: str = "include_patterns"
) -> tuple[re.Pattern[str], ...]:
    if value is None:
        if kind == "remote":
            raise fail(key, "required: only paths matching one are fetched")
        return ()
    if not isinstance(value, list) or not value or len(value) > _MAX_PATTERNS:
        raise fail(key, f"a list of 1 to {_MAX_PATTERNS} regular expressions")
    compiled = []
    for index, pattern in enumerate(value):
        if not isinstance(pattern, str) or not pattern:
            raise fail(f"{key}[{index}]", "a non-empty regular expression")
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise fail(f"{key}[{index}]", f"not a regular expression: {exc}") from None
    return tuple(compiled)


def _cache(value: object, fail: Any) -> CacheRules:
    if value is None:
        return CacheRules()
    if not isinstance(value, dict):
        raise fail("cache", "a mapping of file_ttl, index_ttl, not_found_ttl, max_bytes, …")
    numeric = {"file_ttl", "index_ttl", "not_found_ttl", "max_bytes"}
    known = numeric | {"pin_patterns"}
    if unknown := sorted(set(map(str, value)) - known):
        raise fail(f"cache.{unknown[0]}", f"unknown key (known: {', '.join(sorted(known))})")
    numbers: dict[str, Any] = {}
    pins = value.get("pin_patterns")
    if pins is not None and pins != []:  # an empty list pins nothing, as leaving it out does
        numbers["pin_patterns"] = _patterns(pins, "remote", fail, key="cache.pin_patterns")
    for key in sorted(numeric):
        number = value.get(key, getattr(_DEFAULT_RULES, key))
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise fail(f"cache.{key}", f"whole seconds, 0 or more, not {number!r}")
        numbers[key] = number
    return CacheRules(**numbers)
