"""Retention classes (seed 001's defaults, its TOML overrides), the two modes and the
eligibility rule: holds first, then keep-last-N, then time."""

from __future__ import annotations

from pathlib import Path

import pytest

from satchel.core.errors import AccessDeniedError, InvalidRequestError
from satchel.core.retention import (
    DEFAULT_CLASSES,
    RetentionClass,
    RetentionMode,
    check_shorten,
    class_named,
    eligibility,
    load_retention_classes,
)

SEED_TOML = """
[retention_classes.transient]
default_duration_seconds = 86400
[retention_classes."raw-evidence"]
default_duration_seconds = 7776000
[retention_classes."summary-evidence"]
default_duration_seconds = 31536000
[retention_classes."release-evidence"]
default_duration_seconds = 220752000
[retention_classes."permanent-record"]
# Omit default_duration_seconds for no expiry.
"""


def test_the_defaults_are_seed_001s() -> None:
    durations = {name: c.duration_seconds for name, c in DEFAULT_CLASSES.items()}
    assert durations == {
        "transient": 86_400,
        "raw-evidence": 7_776_000,
        "summary-evidence": 31_536_000,
        "release-evidence": 220_752_000,
        "permanent-record": None,
    }
    assert {c.mode for c in DEFAULT_CLASSES.values()} == {RetentionMode.GOVERNANCE}
    assert DEFAULT_CLASSES["transient"].retain_until(1000.0) == 87_400.0
    assert DEFAULT_CLASSES["permanent-record"].retain_until(1000.0) is None


def test_seed_001s_toml_file_reads_as_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "retention.toml"
    path.write_text(SEED_TOML)
    assert load_retention_classes(path) == dict(DEFAULT_CLASSES)
    assert load_retention_classes(None) == dict(DEFAULT_CLASSES)


def test_a_file_overrides_and_adds_classes(tmp_path: Path) -> None:
    path = tmp_path / "retention.toml"
    path.write_text(
        "[retention_classes.transient]\ndefault_duration_seconds = 60\n"
        '[retention_classes."audit-log"]\ndefault_duration_seconds = 3600\n'
        'mode = "compliance"\nkeep_last = 2\n'
    )
    classes = load_retention_classes(path)
    assert classes["transient"] == RetentionClass("transient", 60)
    assert classes["audit-log"] == RetentionClass(
        "audit-log", 3600, RetentionMode.COMPLIANCE, keep_last=2
    )
    assert classes["raw-evidence"] == DEFAULT_CLASSES["raw-evidence"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[retention_classes.transient]\nduration = 5\n", "unknown key 'duration'"),
        ("[retention_classes.transient]\ndefault_duration_seconds = -1\n", "at least 0"),
        ("[retention_classes.transient]\ndefault_duration_seconds = 1.5\n", "integer"),
        ('[retention_classes.transient]\nmode = "strict"\n', "governance or compliance"),
        ("[retention_classes.transient]\nkeep_last = 0\n", "keep_last"),
        ("[retention_classes]\ntransient = 5\n", "must be a table"),
        ('[retention_classes."../x"]\n', "name"),
        ("[other]\n", "unknown table 'other'"),
        ("not toml [", "retention config"),
    ],
)
def test_a_bad_file_is_refused_naming_what_is_wrong(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "retention.toml"
    path.write_text(text)
    with pytest.raises(InvalidRequestError, match="retention config") as raised:
        load_retention_classes(path)
    assert named in str(raised.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="retention config"):
        load_retention_classes(tmp_path / "absent.toml")


def test_governance_is_shortened_only_by_an_admin_who_says_why() -> None:
    governance = DEFAULT_CLASSES["raw-evidence"]
    check_shorten(governance, admin=True, bypass=True, reason="court order 12")
    with pytest.raises(AccessDeniedError):
        check_shorten(governance, admin=False, bypass=True, reason="mine")
    for bypass, reason in ((False, "why"), (True, None), (True, "  ")):
        with pytest.raises(InvalidRequestError):
            check_shorten(governance, admin=True, bypass=bypass, reason=reason)


def test_compliance_is_never_shortened() -> None:
    compliance = RetentionClass("locked", 60, RetentionMode.COMPLIANCE)
    with pytest.raises(AccessDeniedError, match="never"):
        check_shorten(compliance, admin=True, bypass=True, reason="please")


def test_eligibility_holds_then_keep_last_then_time() -> None:
    kept = RetentionClass("c", 60, keep_last=2)
    assert eligibility(kept, retain_until=100, now=200, holds=("lit-7",)).rule == "held (lit-7)"
    decided = eligibility(kept, retain_until=100, now=200, newer_in_line=1)
    assert not decided.eligible
    assert "keep_last 2" in decided.rule
    decided = eligibility(kept, retain_until=100, now=200, newer_in_line=2)
    assert decided.eligible
    assert decided.rule == "c: retention ended at 100"
    assert not eligibility(kept, retain_until=300, now=200).eligible
    forever = DEFAULT_CLASSES["permanent-record"]
    assert (
        eligibility(forever, retain_until=None, now=1e12).rule == "permanent-record: kept forever"
    )


def test_unknown_classes_are_named_with_the_known_ones() -> None:
    assert class_named(DEFAULT_CLASSES, "transient") is DEFAULT_CLASSES["transient"]
    with pytest.raises(InvalidRequestError, match="known: permanent-record, raw-evidence"):
        class_named(DEFAULT_CLASSES, "nope")
