"""The S3 bucket's care (:class:`~satchel.core.api.bucket.BucketAPI`): the doctor and the
lifecycle rule, run on an S3 backend made from the store's settings for the call (so they work
whatever backend is in use, and when the bucket is the problem)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from satchel.core.errors import ConflictError, InvalidRequestError
from satchel.core.lifecycle_rules import DEFAULT_DAYS, MAX_DAYS, RULE_ID
from satchel.store.context import StoreContext

if TYPE_CHECKING:  # (the S3 backend's libraries are an extra: loaded by the call alone)
    from satchel.blobs.s3 import S3BlobStore

__all__ = ["BucketService"]

_T = TypeVar("_T")
_S3_FIELDS = frozenset(
    {"bucket", "s3_endpoint_url", "s3_provider", "s3_region", "s3_access_key_ref"}
)


class BucketService:
    def __init__(self, context: StoreContext) -> None:
        self.context = context

    async def _on_bucket(self, work: Callable[[S3BlobStore], Awaitable[_T]]) -> _T:
        from satchel.blobs.registry import create_blob_store
        from satchel.blobs.s3 import S3BlobStore

        options = self.context.settings.s3_blob_options()
        store = create_blob_store("s3", **options)
        assert isinstance(store, S3BlobStore)
        try:
            return await work(store)
        finally:
            await store.close()

    def _check_configured(self) -> None:
        """Refuse to edit or read the rules of a bucket nobody configured (the doctor runs
        anyway: saying what is missing is its job)."""
        settings = self.context.settings
        uses_s3 = "s3" in settings.storage_routing(self.context.default_backend).backends
        if not uses_s3 and not settings.model_fields_set & _S3_FIELDS:
            raise ConflictError(
                "no S3 bucket is configured here: set SATCHEL_S3_BUCKET and the other "
                "SATCHEL_S3_* settings (docs/configuration.md), or use the S3 backend"
            )

    async def s3_doctor(self) -> dict[str, Any]:
        from satchel.blobs.s3_doctor import run_doctor, summary

        checks = await self._on_bucket(run_doctor)
        return {"checks": [check.as_dict() for check in checks], **summary(checks)}

    async def s3_lifecycle(
        self, *, apply: bool = False, days: int = DEFAULT_DAYS, dry_run: bool = False
    ) -> dict[str, Any]:
        if not isinstance(apply, bool) or not isinstance(dry_run, bool):
            raise InvalidRequestError("apply and dry_run are true or false")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise InvalidRequestError(f"days must be a whole number from 1 to {MAX_DAYS}")
        if not apply and dry_run:
            raise InvalidRequestError("dry_run goes with apply")
        self._check_configured()
        if not apply:
            rules = await self._on_bucket(lambda store: store.lifecycle_rules())
            ours = next((rule for rule in rules if rule.get("ID") == RULE_ID), None)
            return {"rules": rules, "satchel_rule": ours}
        change = await self._on_bucket(
            lambda store: store.apply_lifecycle(days=days, dry_run=dry_run)
        )
        return {
            "action": change.action,
            "changed": change.changed,
            "dry_run": change.dry_run,
            "rule": change.rule,
            "previous": change.previous,
            "rules": change.rules,
        }
