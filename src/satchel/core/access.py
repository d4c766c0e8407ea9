"""Access policy: who may read, write and list what. Pure decisions, no I/O.

Rules (DESIGN.md "Rules that must hold"):

* A caller that names neither a user nor a session is the application itself: trusted.
* An admin principal may do anything.
* A session has one owner: a user, or the application (a session made without a user). A user
  uses only its own sessions; a caller naming only a session is the application acting in it.
* Session scope: the owning session; the user who owns that session may act too.
* User scope: the owning user, named as ``user_id`` (a session id alone never stands in for
  its owner: session ids are often guessable, user scope is the persistent store).
* Sandbox scope: everyone reads; only admins (or the trusted application) write.
* A public artifact (policy ``public``) is read by anyone who names it, a public reader
  (an anonymous request where anonymous reads are off) included; a public reader reads nothing
  else. Writing a public artifact follows its scope's rules as ever.
"""

from __future__ import annotations

import dataclasses

from satchel.core.errors import AccessDeniedError
from satchel.core.models import ArtifactRecord
from satchel.core.policies import PUBLIC
from satchel.core.scopes import Scope

__all__ = [
    "ANONYMOUS_USER",
    "Caller",
    "check_read",
    "check_upload",
    "check_write",
    "check_write_scope",
]


ANONYMOUS_USER = "anonymous"
"""The user id anonymous readers act as (reserved: no token or key may name it)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking. ``session_owner`` is the owner of ``session_id`` when the session is known."""

    user_id: str | None = None
    session_id: str | None = None
    session_owner: str | None = None
    is_admin: bool = False
    public_only: bool = False
    """A reader without a token where anonymous reads are off: public artifacts alone."""

    @property
    def trusted(self) -> bool:
        return self.is_admin or (self.user_id is None and self.session_id is None)


def _owns_session_artifact(record: ArtifactRecord, caller: Caller) -> bool:
    if caller.session_id is not None and caller.session_id != record.session_id:
        return False
    if caller.user_id is not None:
        # A user reaches the session-scoped artifacts of its own sessions only: never those of
        # the application's sessions (owner None) or of another user's.
        return record.owner_id == caller.user_id
    return caller.session_id is not None  # the application acting in that session


def _owns_user_artifact(record: ArtifactRecord, caller: Caller) -> bool:
    return caller.user_id is not None and caller.user_id == record.owner_id


def _describe(record: ArtifactRecord) -> str:
    return f"artifact {record.artifact_id} ({record.scope.value} scope)"


def check_read(record: ArtifactRecord, caller: Caller) -> None:
    """Raise AccessDeniedError unless *caller* may read *record*."""
    if record.policy == PUBLIC:
        return
    if caller.public_only:
        raise AccessDeniedError(f"access denied to {_describe(record)}: it is not public")
    if caller.trusted or record.scope is Scope.SANDBOX:
        return
    if record.scope is Scope.SESSION and _owns_session_artifact(record, caller):
        return
    if record.scope is Scope.USER and _owns_user_artifact(record, caller):
        return
    raise AccessDeniedError(f"access denied to {_describe(record)}")


def check_write(record: ArtifactRecord, caller: Caller) -> None:
    """Raise AccessDeniedError unless *caller* may update, move, copy or delete *record*."""
    if caller.trusted:
        return
    if record.scope is Scope.SANDBOX:
        raise AccessDeniedError(f"{_describe(record)} is writable by admins only")
    if record.scope is Scope.SESSION and _owns_session_artifact(record, caller):
        return
    if record.scope is Scope.USER and _owns_user_artifact(record, caller):
        return
    raise AccessDeniedError(f"write access denied to {_describe(record)}")


def check_write_scope(scope: Scope, caller: Caller, owner_id: str | None) -> None:
    """Raise AccessDeniedError unless *caller* may create an artifact in *scope* for *owner_id*."""
    if caller.trusted:
        return
    if scope is Scope.SANDBOX:
        raise AccessDeniedError("sandbox-scoped artifacts are written by admins only")
    if scope is Scope.USER and caller.user_id != owner_id:
        raise AccessDeniedError("cannot create an artifact in another user's scope")


def check_upload(actor_id: str | None, session_id: str, caller: Caller) -> None:
    """Raise AccessDeniedError unless *caller* may continue an upload started by *actor_id* in
    *session_id*: the same user, the same session (when no user started it), or the application.
    """
    if caller.trusted:
        return
    if actor_id is not None and caller.user_id == actor_id:
        return
    if actor_id is None and caller.session_id == session_id:
        return
    raise AccessDeniedError("this upload belongs to another caller")
