"""Backend routing rules: which configured blob backend new content goes to. Pure, no I/O.

A rule reads ``producer:retention_class=backend``; rules are comma-separated and the first that
matches wins, else the default backend takes the content. In a pattern ``*`` stands for any run of
characters (``*`` alone matches anything, including an artifact with no retention class; every
other pattern needs a value). Backend ids are normalised by the caller's ``normalise`` function
(the blob registry's provider names and aliases), so ``local`` and ``filesystem`` are one backend.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from satchel.core.errors import InvalidRequestError

__all__ = [
    "WILDCARD",
    "RouteRule",
    "RoutingTable",
    "build_routing",
    "parse_backend_list",
    "parse_routes",
    "producer_of",
]

WILDCARD = "*"

Normalise = Callable[[str], str]


def _identity(name: str) -> str:
    return name


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile("(?s:" + ".*".join(re.escape(part) for part in pattern.split("*")) + r")\Z")


@dataclasses.dataclass(frozen=True, slots=True)
class RouteRule:
    """One ``producer:retention_class=backend`` rule."""

    producer: str
    retention_class: str
    backend: str

    def matches(self, producer: str | None, retention_class: str | None) -> bool:
        """True when both patterns match (a missing value matches only ``*``)."""
        return _match(self.producer, producer) and _match(self.retention_class, retention_class)

    def __str__(self) -> str:
        return f"{self.producer}:{self.retention_class}={self.backend}"


def _match(pattern: str, value: str | None) -> bool:
    if pattern == WILDCARD:
        return True
    if value is None:
        return False
    if WILDCARD not in pattern:
        return pattern == value
    return _compile(pattern).match(value) is not None


@dataclasses.dataclass(frozen=True, slots=True)
class RoutingTable:
    """The configured backends, the default one and the rules, validated together."""

    backends: tuple[str, ...]
    default_backend: str
    rules: tuple[RouteRule, ...] = ()

    def backend_for(self, producer: str | None, retention_class: str | None) -> str:
        """The backend of the first rule matching, else the default backend."""
        for rule in self.rules:
            if rule.matches(producer, retention_class):
                return rule.backend
        return self.default_backend


def parse_backend_list(text: str, normalise: Normalise = _identity) -> tuple[str, ...]:
    """``"local, s3"`` → ``("filesystem", "s3")``: normalised, in order, without repeats."""
    found: list[str] = []
    for item in text.split(","):
        name = item.strip()
        if not name:
            continue
        backend = _normalised(normalise, name, f"backend {name!r} in the storage backend list")
        if backend not in found:
            found.append(backend)
    return tuple(found)


def parse_routes(text: str, normalise: Normalise = _identity) -> tuple[RouteRule, ...]:
    """Parse comma-separated ``producer:retention_class=backend`` rules (blank items ignored).

    Raises:
        InvalidRequestError: a rule is malformed or names an unknown backend; the message quotes
            the rule.
    """
    rules: list[RouteRule] = []
    for item in text.split(","):
        rule = item.strip()
        if rule:
            rules.append(_parse_rule(rule, normalise))
    return tuple(rules)


def _parse_rule(rule: str, normalise: Normalise) -> RouteRule:
    shape = "expected producer:retention_class=backend"
    if rule.count("=") != 1:
        raise InvalidRequestError(f"malformed storage route {rule!r}: {shape}")
    match_part, backend = (part.strip() for part in rule.split("="))
    if match_part.count(":") != 1:
        raise InvalidRequestError(f"malformed storage route {rule!r}: {shape}")
    producer, retention_class = (part.strip() for part in match_part.split(":"))
    for what, value in (("producer", producer), ("retention class", retention_class)):
        if not value:
            raise InvalidRequestError(f"malformed storage route {rule!r}: empty {what}")
    if not backend:
        raise InvalidRequestError(f"malformed storage route {rule!r}: empty backend")
    return RouteRule(
        producer=producer,
        retention_class=retention_class,
        backend=_normalised(normalise, backend, f"storage route {rule!r}"),
    )


def _normalised(normalise: Normalise, name: str, where: str) -> str:
    try:
        return normalise(name)
    except ValueError as exc:  # InvalidRequestError is a ValueError too
        raise InvalidRequestError(f"unknown backend {name!r} in {where}: {exc}") from None


def build_routing(
    *,
    backends: Iterable[str],
    default_backend: str,
    routes: str = "",
    normalise: Normalise = _identity,
) -> RoutingTable:
    """Validate a configuration: the default and every rule must name a configured backend.

    Args:
        backends: the backend ids to configure (at least one; normalised, repeats dropped).
        default_backend: where content goes when no rule matches.
        routes: the rules, as ``parse_routes`` reads them.
        normalise: maps a backend id or alias to its canonical id (raises ValueError if unknown).

    Raises:
        InvalidRequestError: naming the unknown backend or the offending rule.
    """
    configured = parse_backend_list(",".join(backends), normalise)
    if not configured:
        raise InvalidRequestError("no storage backend is configured")
    default = _normalised(normalise, default_backend, "the default storage backend")
    listed = ", ".join(configured)
    if default not in configured:
        raise InvalidRequestError(
            f"the default storage backend {default!r} is not configured (configured: {listed})"
        )
    rules = parse_routes(routes, normalise)
    for rule in rules:
        if rule.backend not in configured:
            raise InvalidRequestError(
                f"storage route {str(rule)!r} names backend {rule.backend!r}, "
                f"which is not configured (configured: {listed})"
            )
    return RoutingTable(backends=configured, default_backend=default, rules=rules)


def producer_of(
    meta: Mapping[str, Any], owner_id: str | None, session_id: str | None
) -> str | None:
    """Who produced an artifact, for routing: ``meta["producer"]`` when it is a string, else the
    owning user's id, else the session id."""
    producer = meta.get("producer")
    if isinstance(producer, str):
        return producer
    return owner_id if owner_id is not None else session_id


def retention_class_of(meta: Mapping[str, Any]) -> str | None:
    """The retention class an artifact asks for: ``meta["retention_class"]`` when a string."""
    value = meta.get("retention_class")
    return value if isinstance(value, str) else None
