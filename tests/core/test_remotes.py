"""The pull-through cache's remotes file (seed 003's remotes.yaml): parsed as the seed writes
it, every error naming the remote and key, index files told apart, paths checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from satchel.core.errors import InvalidRequestError
from satchel.core.proxy import ProxyEntry
from satchel.core.remotes import (
    RemotesError,
    check_proxy_path,
    checksum_from,
    is_index_file,
    load_remotes,
    parse_remotes,
    public_url,
)

SEED = r"""
remotes:
  github:
    base_url: "https://github.com"
    type: "remote"
    package: "generic"
    description: "GitHub releases and files"
    include_patterns:
      - "gruntwork-io/terragrunt/.*terragrunt_linux_amd64.*"
      - "lxc/incus/.*\\.tar\\.gz$"
    cache:
      file_ttl: 0
      index_ttl: 0
  alpine:
    base_url: "https://dl-cdn.alpinelinux.org"
    type: "remote"
    package: "alpine"
    include_patterns:
      - ".*/x86_64/.*\\.apk$"
      - ".*/x86_64/APKINDEX\\.tar\\.gz$"
    cache:
      file_ttl: 0
      index_ttl: 7200
  almalinux:
    base_url: "http://mirror.aarnet.edu.au/pub/almalinux"
    type: "remote"
    package: "rpm"
    include_patterns:
      - ".*/x86_64/.*\\.rpm$"
    cache:
      file_ttl: 0
      index_ttl: 7200
  local-generic:
    type: "local"
    package: "generic"
    description: "Local generic file repository"
    cache:
      file_ttl: 0
      index_ttl: 0
"""


GH = {"base_url": "https://x", "include_patterns": ["a"]}


def test_the_seed_file_parses(tmp_path: Path) -> None:
    path = tmp_path / "remotes.yaml"
    path.write_text(SEED)
    remotes = load_remotes(path)
    assert sorted(remotes) == ["almalinux", "alpine", "github", "local-generic"]
    github = remotes["github"]
    assert github.allows("gruntwork-io/terragrunt/releases/download/v0.96.1/terragrunt_linux_amd64")
    assert not github.allows("torvalds/linux/archive/master.zip")
    assert github.ttl_of("lxc/incus/x.tar.gz") == 0
    assert github.upstream_url("a b/c.tar.gz") == "https://github.com/a%20b/c.tar.gz"
    alpine = remotes["alpine"]
    assert alpine.ttl_of("v3.20/main/x86_64/APKINDEX.tar.gz") == 7200
    assert alpine.ttl_of("v3.20/main/x86_64/musl-1.2.5-r0.apk") == 0
    assert remotes["local-generic"].allows("anything/at/all.bin")
    assert remotes["local-generic"].base_url is None
    assert github.describe()["include_patterns"][1] == r"lxc/incus/.*\.tar\.gz$"


@pytest.mark.parametrize(
    ("package", "path", "index"),
    [
        ("alpine", "v3.20/main/x86_64/APKINDEX.tar.gz", True),
        ("alpine", "v3.20/main/x86_64/APKINDEX.tar.gz.sig", False),
        ("rpm", "9/BaseOS/x86_64/os/repodata/repomd.xml", True),
        ("rpm", "9/BaseOS/x86_64/os/repodata/repomd.xml.asc", True),
        ("rpm", "9/BaseOS/x86_64/os/repodata/abc123-primary.xml.gz", True),
        ("rpm", "9/BaseOS/x86_64/os/repodata/abc123-filelists.sqlite.bz2", True),
        ("rpm", "9/BaseOS/x86_64/os/repodata/abc123-updateinfo.xml.zst", True),
        ("rpm", "9/BaseOS/x86_64/os/Packages/bash-5.1.rpm", False),
        ("generic", "repodata/repomd.xml", False),
    ],
)
def test_index_files_are_told_apart(package: str, path: str, index: bool) -> None:
    assert is_index_file(package, path) is index


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"remotes": {"Bad Name": {}}}, "remote 'Bad Name': name"),
        ({"remotes": {"gh": {"type": "mirror"}}}, "remote 'gh': type"),
        ({"remotes": {"gh": {"package": "deb"}}}, "remote 'gh': package"),
        ({"remotes": {"gh": {"include_patterns": ["x"]}}}, "remote 'gh': base_url: required"),
        ({"remotes": {"gh": {"base_url": "ftp://x", "include_patterns": ["x"]}}}, "base_url"),
        ({"remotes": {"gh": {"base_url": "https://x"}}}, "remote 'gh': include_patterns"),
        (
            {"remotes": {"gh": {"base_url": "https://x", "include_patterns": ["ok", "(("]}}},
            "include_patterns[1]: not a regular expression",
        ),
        ({"remotes": {"gh": {**GH, "cache": {"file_ttl": -1}}}}, "remote 'gh': cache.file_ttl"),
        ({"remotes": {"gh": {**GH, "cache": {"ttl": 1}}}}, "remote 'gh': cache.ttl: unknown key"),
        ({"remotes": {"gh": {**GH, "extra": 1}}}, "extra: unknown key"),
        ({"remotes": {"loc": {"type": "local", "base_url": "https://x"}}}, "'loc': base_url"),
        ({"remotes": {"gh": {**GH, "auth": {"type": "digest"}}}}, "'gh': auth.type"),
        ({"remotes": {"gh": {**GH, "auth": {"type": "bearer", "token": "ghp_x"}}}}, "auth.token"),
        (
            {"remotes": {"gh": {**GH, "auth": {"type": "basic", "password": "env:P"}}}},
            "'gh': auth.username",
        ),
        (
            {"remotes": {"gh": {**GH, "auth": {"type": "bearer", "token": "env:T", "x": 1}}}},
            "auth.x: not a key",
        ),
        ({"remotes": {"gh": {**GH, "redirect_hosts": ["a b"]}}}, "redirect_hosts[0]"),
        ({"remotes": {"gh": {**GH, "max_file_bytes": 0}}}, "'gh': max_file_bytes"),
        ({"remotes": {"gh": {**GH, "offline": "yes"}}}, "'gh': offline"),
        (
            {"remotes": {"gh": {**GH, "base_url": "https://ci:pw@mirror.example"}}},
            "'gh': base_url: no user or password",
        ),
        ({"remotes": []}, "'remotes' maps"),
        ({"other": {}}, "one key"),
    ],
)  # fmt: skip
def test_errors_name_the_remote_and_the_key(document: object, message: str) -> None:
    with pytest.raises(RemotesError) as raised:
        parse_remotes(document, where="remotes.yaml")
    assert message in str(raised.value)
    assert str(raised.value).startswith("remotes.yaml: ")


def test_an_unreadable_or_invalid_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(RemotesError, match="cannot be read"):
        load_remotes(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("remotes: [unclosed")
    with pytest.raises(RemotesError, match="not valid YAML"):
        load_remotes(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_remotes(empty) == {}


@pytest.mark.parametrize(
    "path",
    [
        "", "/etc/passwd", "a/../b", "../x", "a/./b", "a//b", "a\\b", "a/%2e%2e/b", "a/\x00b",
        "a/\nb", "x" * 3000,
    ],
)  # fmt: skip
def test_odd_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidRequestError):
        check_proxy_path(path)


def test_ordinary_paths_pass() -> None:
    for path in ("a/b.tar.gz", "v1.0/file name.zip", "x/y-z_1+2@3.rpm", "é/ü.txt"):
        assert check_proxy_path(path) == path


def test_redirects_go_only_to_the_remote_host_or_listed_ones() -> None:
    [remote] = parse_remotes(
        {"remotes": {"gh": {**GH, "redirect_hosts": ["objects.githubusercontent.com"]}}}
    ).values()
    assert remote.may_redirect_to("https://x/other")
    assert remote.may_redirect_to("https://objects.githubusercontent.com/a?sig=1")
    assert not remote.may_redirect_to("https://evil.example/a")
    assert not remote.may_redirect_to("http://objects.githubusercontent.com/a")  # no downgrade
    assert not remote.may_redirect_to("file:///etc/passwd")
    described = remote.describe()
    assert described["redirect_hosts"] == ["objects.githubusercontent.com"]


def test_checksum_files_in_the_forms_releases_publish() -> None:
    digest = "ab" * 32
    assert checksum_from(digest + "\n", "x.tar.gz") == f"sha256:{digest}"
    assert checksum_from(f"{digest}  x.tar.gz\n", "x.tar.gz") == f"sha256:{digest}"
    sums = f"{'cd' * 32}  y.tar.gz\n{digest} *dist/x.tar.gz\n"
    assert checksum_from(sums, "x.tar.gz") == f"sha256:{digest}"
    assert checksum_from(sums, "z.tar.gz") is None  # names other files only
    assert checksum_from("not a checksum", "x.tar.gz") is None
    assert checksum_from(f"{digest}\n{'cd' * 32}\n", "x.tar.gz") is None  # which one?


def test_urls_shown_keep_no_signature() -> None:
    signed = "https://objects.example.com:8443/a/b.tar.gz?X-Amz-Signature=abc&X-Amz-Expires=300"
    assert public_url(signed) == "https://objects.example.com:8443/a/b.tar.gz"
    [remote] = parse_remotes({"remotes": {"gh": GH}}).values()
    assert remote.upstream_url("a/libstdc++-1.apk").endswith("/a/libstdc%2B%2B-1.apk")


def test_freshness_follows_the_ttl_configured_now() -> None:
    entry = ProxyEntry(
        entry_id="e" * 32,
        sandbox_id="s",
        remote="r",
        path="p",
        artifact_id="a" * 32,
        sha256=None,
        bytes=1,
        upstream_etag=None,
        upstream_modified=None,
        fetched_at=100.0,
        checked_at=200.0,
        fresh_until=None,  # cached while the TTL was 0 (for ever)
        missing_until=None,
    )
    assert entry.is_fresh(10_000.0, 0)
    assert entry.is_fresh(299.0, 100)
    assert not entry.is_fresh(300.0, 100)  # the TTL now in force counts from the last check
    assert entry.expires(100) == 300.0


def test_an_empty_pin_list_pins_nothing() -> None:
    remotes = parse_remotes(
        {
            "remotes": {
                "r": {
                    "base_url": "https://example.org",
                    "include_patterns": [".*"],
                    "cache": {"pin_patterns": []},
                }
            }
        },
        where="remotes.yaml",
    )
    assert remotes["r"].cache.pin_patterns == ()
    with pytest.raises(RemotesError, match="include_patterns"):
        parse_remotes(
            {"remotes": {"r": {"base_url": "https://example.org", "include_patterns": []}}},
            where="remotes.yaml",
        )
