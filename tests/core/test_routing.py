"""Routing rules (core/routing.py): parsing, matching, validation. Pure: no backend involved."""

from __future__ import annotations

import pytest

from satchel.blobs.registry import normalise_provider
from satchel.core.errors import InvalidRequestError
from satchel.core.routing import (
    RouteRule,
    RoutingTable,
    build_routing,
    parse_backend_list,
    parse_routes,
    producer_of,
)

SEED_ROUTES = "guide-board:release-evidence=s3,*:*=local"


def _table(routes: str, default: str = "filesystem") -> RoutingTable:
    return build_routing(
        backends=["filesystem", "sqlite", "s3"],
        default_backend=default,
        routes=routes,
        normalise=normalise_provider,
    )


# -- parsing -------------------------------------------------------------------------------------


def test_seed_example_parses_in_order_with_local_as_filesystem() -> None:
    assert parse_routes(SEED_ROUTES, normalise_provider) == (
        RouteRule("guide-board", "release-evidence", "s3"),
        RouteRule("*", "*", "filesystem"),
    )


def test_whitespace_around_parts_and_blank_items_are_ignored() -> None:
    rules = parse_routes(" a : b = sqlite , ,\n*:*=s3, ", normalise_provider)
    assert rules == (RouteRule("a", "b", "sqlite"), RouteRule("*", "*", "s3"))


@pytest.mark.parametrize("text", ["", "   ", ",", " , ,"])
def test_no_rules(text: str) -> None:
    assert parse_routes(text, normalise_provider) == ()


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ("producer=s3", "expected producer:retention_class=backend"),
        ("a:b", "expected producer:retention_class=backend"),
        ("a:b=s3=sqlite", "expected producer:retention_class=backend"),
        ("a:b:c=s3", "expected producer:retention_class=backend"),
        (":b=s3", "empty producer"),
        ("a:=s3", "empty retention class"),
        ("a: =s3", "empty retention class"),
        ("a:b=", "empty backend"),
        ("a:b= ", "empty backend"),
    ],
)
def test_malformed_rules_are_named(rule: str, why: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_routes(f"*:keep=sqlite,{rule}", normalise_provider)
    assert repr(rule.strip()) in str(caught.value)
    assert why in str(caught.value)


def test_unknown_backend_in_a_rule_is_named() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_routes("a:b=tape", normalise_provider)
    assert "'tape'" in str(caught.value)
    assert "'a:b=tape'" in str(caught.value)


def test_backend_aliases_normalise_in_rules() -> None:
    rules = parse_routes("a:*=vfs-sqlite,b:*=fs,c:*=ibm_cos,d:*=LOCAL", normalise_provider)
    assert [rule.backend for rule in rules] == ["sqlite", "filesystem", "s3", "filesystem"]


def test_backend_list_normalises_and_drops_repeats() -> None:
    assert parse_backend_list("local, s3,filesystem,,S3", normalise_provider) == (
        "filesystem",
        "s3",
    )


def test_unknown_backend_in_the_list_is_named() -> None:
    with pytest.raises(InvalidRequestError, match="'floppy'"):
        parse_backend_list("local,floppy", normalise_provider)


def test_rule_prints_as_written() -> None:
    assert str(RouteRule("a", "*", "s3")) == "a:*=s3"


# -- matching ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("producer", "retention_class", "backend"),
    [
        ("guide-board", "release-evidence", "s3"),
        ("guide-board", "scratch", "filesystem"),
        ("guide-board", None, "filesystem"),
        ("other", "release-evidence", "filesystem"),
        (None, None, "filesystem"),
        ("Guide-Board", "release-evidence", "filesystem"),  # case-sensitive
    ],
)
def test_seed_example_routes(
    producer: str | None, retention_class: str | None, backend: str
) -> None:
    assert _table(SEED_ROUTES).backend_for(producer, retention_class) == backend


def test_first_match_wins() -> None:
    table = _table("a:*=sqlite,a:x=s3,*:x=s3")
    assert table.backend_for("a", "x") == "sqlite"
    assert table.backend_for("b", "x") == "s3"


def test_no_match_goes_to_the_default() -> None:
    table = _table("a:x=sqlite", default="s3")
    assert table.backend_for("a", "y") == "s3"
    assert table.backend_for(None, "x") == "s3"


def test_a_missing_value_matches_only_the_bare_wildcard() -> None:
    table = _table("*:*x=sqlite,x*:*=s3,*:*=filesystem", default="s3")
    assert table.backend_for("p", None) == "filesystem"
    assert table.backend_for(None, "ax") == "sqlite"
    assert table.backend_for(None, None) == "filesystem"


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("guide-*", "guide-board", True),
        ("guide-*", "guide-", True),
        ("guide-*", "guid", False),
        ("*-board", "guide-board", True),
        ("g*e*d", "guide-board", True),
        ("g*e*d", "guide-boards", False),
        ("a.b", "axb", False),  # only * is special
        ("a?", "ab", False),
        ("[a]", "a", False),
        ("[a]", "[a]", True),
        ("a*", "a\nb", True),
        ("", "", True),
        ("*", "", True),
    ],
)
def test_star_in_a_pattern(pattern: str, value: str, matches: bool) -> None:
    rule = RouteRule(producer=pattern, retention_class="*", backend="s3")
    assert rule.matches(value, None) is matches


def test_an_empty_table_always_answers_the_default() -> None:
    table = RoutingTable(backends=("memory",), default_backend="memory")
    assert table.backend_for("anything", "any") == "memory"


# -- validation ----------------------------------------------------------------------------------


def test_route_to_an_unconfigured_backend_is_named() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        build_routing(
            backends=["local"],
            default_backend="local",
            routes="*:*=local,guide-board:*=s3",
            normalise=normalise_provider,
        )
    message = str(caught.value)
    assert "'guide-board:*=s3'" in message
    assert "not configured" in message
    assert "filesystem" in message


def test_default_must_be_configured() -> None:
    with pytest.raises(InvalidRequestError, match="default storage backend 's3'"):
        build_routing(backends=["local"], default_backend="s3", normalise=normalise_provider)


def test_unknown_default_is_named() -> None:
    with pytest.raises(InvalidRequestError, match="'nowhere'"):
        build_routing(backends=["local"], default_backend="nowhere", normalise=normalise_provider)


def test_no_backend_at_all_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="no storage backend"):
        build_routing(backends=[" ", ""], default_backend="local", normalise=normalise_provider)


def test_valid_configuration_is_normalised() -> None:
    table = build_routing(
        backends=["local", "s3", "fs"],
        default_backend="s3",
        routes=SEED_ROUTES,
        normalise=normalise_provider,
    )
    assert table.backends == ("filesystem", "s3")
    assert table.default_backend == "s3"
    assert [str(rule) for rule in table.rules] == [
        "guide-board:release-evidence=s3",
        "*:*=filesystem",
    ]


def test_without_a_normaliser_names_are_taken_as_given() -> None:
    table = build_routing(backends=["x", "y"], default_backend="y", routes="a:*=x")
    assert table.backend_for("a", None) == "x"
    assert table.backend_for("b", None) == "y"


# -- who produced an artifact --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "owner", "session", "producer"),
    [
        ({"producer": "guide-board"}, "alice", "s1", "guide-board"),
        ({"producer": ""}, "alice", "s1", ""),
        ({"producer": 7}, "alice", "s1", "alice"),
        ({"producer": None}, "alice", "s1", "alice"),
        ({"producer": ["guide-board"]}, None, "s1", "s1"),
        ({}, "alice", "s1", "alice"),
        ({}, None, "s1", "s1"),
        ({}, None, None, None),
    ],
)
def test_producer_of(
    meta: dict[str, object], owner: str | None, session: str | None, producer: str | None
) -> None:
    assert producer_of(meta, owner, session) == producer
