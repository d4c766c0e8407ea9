"""Access control as a property (hypothesis, stateful): random principals, sessions, scopes and
operations through the embedded library and through the HTTP service (the remote client over
the in-process app, one token per principal), checked against DESIGN.md's rules restated here
apart from ``satchel.core.access``:

* a caller naming no user and no session is the application: trusted;
* a session has one owner (a user or the application); a user naming another's session is
  refused everything, and a caller-chosen session id that belongs to someone else is refused,
  except listings and searches, which find nothing, as in an unknown session (no existence
  oracle);
* session scope: the owning session (the application acting in it, or its owner from it or
  from no session); user scope: the owning user; sandbox scope: everyone reads, only the
  application writes; anonymous callers (HTTP, anonymous reads on) read sandbox scope only;
* copy and move never cross a session boundary, whoever asks.

Every operation a rule forbids fails with a 4xx error of the tree and changes nothing (the
artifact's metadata is compared before and after); every operation it allows succeeds. Every
session listing and search, paged two at a time, returns exactly what the caller may see, and
the application's full listing never fails whatever was stored (hostile meta, filenames, MIME
types and summaries from any principal).

``ACCESS_EXAMPLES`` (default 25) sets the examples per face; each runs up to 30 steps. A failure
is reported as the steps that led to it, unshrunk; ``ACCESS_SHRINK=1`` shrinks it (slow). The
suite's runs are derandomized (repeatable); ``ACCESS_RANDOM=1`` explores new examples.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from tests.server.inprocess import ADMIN, ALICE, BOB, running_app

from satchel import ArtifactStore, Settings
from satchel.client.remote import RemoteArtifactStore
from satchel.core.errors import (
    AccessDeniedError,
    ArtifactNotFoundError,
    InvalidRequestError,
    TooLargeError,
)

EXAMPLES = int(os.environ.get("ACCESS_EXAMPLES", "25"))
USERS = ("alice", "bob", "carol")  # alice and bob have tokens; carol is named by the admin
CHOSEN = ("ci-build-42", "shared")  # session ids callers pick themselves
DENIED = (AccessDeniedError, ArtifactNotFoundError)  # (UnauthorizedError is an AccessDenied)
REFUSED = (InvalidRequestError, TooLargeError)


@dataclasses.dataclass(frozen=True)
class Who:
    user: str | None
    session: str | None = None
    anonymous: bool = False


@dataclasses.dataclass
class Art:
    artifact_id: str
    scope: str
    owner: str | None
    session: str
    data: bytes


class Model:
    """What DESIGN.md says each caller may do, from what was stored."""

    def __init__(self) -> None:
        self.sessions: dict[str, str | None] = {}  # id -> owner (None: the application)
        self.arts: dict[str, Art] = {}

    def valid(self, who: Who) -> bool:
        """False when a user names a session that exists and is not theirs."""
        if who.user is None or who.session not in self.sessions:
            return True
        return self.sessions[who.session] == who.user

    @staticmethod
    def trusted(who: Who) -> bool:
        return not who.anonymous and who.user is None and who.session is None

    def may_read(self, art: Art, who: Who) -> bool:
        if who.anonymous:
            return art.scope == "sandbox"
        if not self.valid(who):
            return False
        if self.trusted(who) or art.scope == "sandbox":
            return True
        if art.scope == "session":
            if who.session is not None and who.session != art.session:
                return False
            if who.user is not None:
                return art.owner == who.user
            return who.session == art.session
        return who.user is not None and art.owner == who.user

    def may_write(self, art: Art, who: Who) -> bool:
        if art.scope == "sandbox":
            return self.trusted(who)
        return self.may_read(art, who)

    def may_store(self, who: Who, scope: str) -> bool:
        if who.anonymous or not self.valid(who):
            return False
        if who.session in self.sessions and self.sessions[who.session] != who.user:
            return False  # the application naming a user's session, or a user another's
        if scope == "sandbox":
            return self.trusted(who)
        return scope != "user" or who.user is not None

    def listed(self, who: Who, session_id: str) -> set[str]:
        in_session = Who(who.user, session_id, who.anonymous)
        if who.anonymous or not self.valid(in_session):
            return set()
        return {
            a.artifact_id
            for a in self.arts.values()
            if a.session == session_id and self.may_read(a, in_session)
        }

    def searched(self, who: Who, scope: str | None) -> set[str]:
        if who.anonymous:  # (the service searches sandbox scope for them)
            scope = scope or "sandbox"
            owner = None if scope == "sandbox" else "anonymous"
        else:
            owner = who.user if scope != "sandbox" else None
        session = who.session if scope == "session" else None
        return {
            a.artifact_id
            for a in self.arts.values()
            if (scope is None or a.scope == scope)
            and (owner is None or a.owner == owner)
            and (session is None or a.session == session)
            and self.may_read(a, who)
        }


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"n": value}
    return value


ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=12,
)
HOSTILE_META = st.dictionaries(ANY_TEXT, JSON, max_size=4) | st.integers(20, 40).map(_nested)


class AccessMachine(RuleBasedStateMachine):
    """Shared rules; a face (library or HTTP) says how a caller reaches the store."""

    sessions = Bundle("sessions")

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.stack = contextlib.AsyncExitStack()
        self.tmp = tempfile.TemporaryDirectory()
        self.model = Model()
        self.counter = 0
        self.run(self.start(Path(self.tmp.name)))

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    def teardown(self) -> None:
        self.run(self.stack.aclose())
        self.runner.close()
        self.tmp.cleanup()

    # -- the face ------------------------------------------------------------------------------

    async def start(self, data_dir: Path) -> None:
        raise NotImplementedError

    def reach(self, who: Who) -> tuple[Any, dict[str, Any]]:
        """The store *who* calls and the ``user_id`` / ``session_id`` keywords it passes."""
        raise NotImplementedError

    def who(self) -> st.SearchStrategy[Who]:
        """A caller: a user or the application, in no session, a chosen one or a known one
        (drawn by position: generated session ids differ from run to run)."""

        def session(choice: int | str | None) -> str | None:
            known = list(self.model.sessions)
            if isinstance(choice, int) and known:
                return known[choice % len(known)]
            return choice if isinstance(choice, str) else None

        chosen = st.none() | st.sampled_from(CHOSEN) | st.integers(0, 15)
        return st.builds(Who, st.sampled_from((None, *USERS)), chosen.map(session))

    async def fetch(self, url: str) -> bytes | None:
        """The bytes a presigned URL serves (None: not served by this face)."""
        return None

    # -- helpers -------------------------------------------------------------------------------

    async def attempt(self, who: Who, method: str, *args: Any, **kwargs: Any) -> Any:
        store, ids = self.reach(who)
        if method == "list_by_session":  # (the session listed is the one the caller acts in)
            ids.pop("session_id", None)
        return await getattr(store, method)(*args, **ids, **kwargs)

    def outcome(self, who: Who, method: str, *args: Any, **kwargs: Any) -> tuple[str, Any]:
        try:
            return "ok", self.run(self.attempt(who, method, *args, **kwargs))
        except DENIED as error:
            return "denied", error
        except REFUSED as error:
            return "refused", error

    def snapshot(self, artifact_id: str) -> dict[str, Any]:
        store, _ = self.reach(Who(None))
        return self.run(store.metadata(artifact_id)).to_dict()

    def expect(self, allowed: bool, result: tuple[str, Any], what: str) -> None:
        kind, value = result
        event(f"{what.split()[0]}: {'allowed' if allowed else 'forbidden'}")
        if allowed:
            assert kind == "ok", f"{what}: allowed by the rules, got {value!r}"
        else:
            assert kind != "ok", f"{what}: forbidden by the rules, but it succeeded"

    def note_session(self, session_id: str, owner: str | None) -> None:
        self.model.sessions.setdefault(session_id, owner)

    # -- rules ---------------------------------------------------------------------------------

    @initialize(target=sessions)
    def populate(self) -> Any:
        """Every example starts with a session of the application and of each user, an
        artifact in each, one in each user's scope and one shared: the rules then meet
        strangers at once."""
        found = []
        app_store = self.reach(Who(None))[0]
        for owner in (None, *USERS):
            keywords = {} if owner is None else {"user_id": owner}
            session_id = self.run(app_store.create_session(ttl_hours=24, **keywords))
            self.note_session(session_id, owner)
            found.append(session_id)
            self.must_store(Who(owner, session_id), "session")
        for user in USERS[:2]:
            self.must_store(Who(user), "user")
        self.must_store(Who(None), "sandbox")
        return multiple(*found)

    def must_store(self, who: Who, scope: str) -> None:
        self.counter += 1
        body = f"seeded {self.counter}".encode()
        result = self.outcome(who, "store", body, mime="text/plain", scope=scope, ttl=3600)
        self.expect(True, result, f"store {scope} as {who}")
        self.record(result[1], who, body)

    @rule(target=sessions, data=st.data())
    def create_session(self, data: st.DataObject) -> str:
        user = data.draw(st.sampled_from((None, *USERS)))
        store, _ = self.reach(Who(user))
        keywords = {"user_id": user} if store is self.reach(Who(None))[0] else {}
        session_id = self.run(store.create_session(**keywords))
        self.note_session(session_id, user)
        return session_id

    @rule(
        data=st.data(),
        scope=st.sampled_from(("session", "user", "sandbox")),
        session=sessions | st.sampled_from((*CHOSEN, None)),
    )
    def store(self, data: st.DataObject, scope: str, session: str | None) -> None:
        who = dataclasses.replace(data.draw(self.who()), session=session)
        self.counter += 1
        body = f"artifact {self.counter}".encode()
        allowed = self.model.may_store(who, scope)
        result = self.outcome(who, "store", body, mime="text/plain", scope=scope, ttl=3600)
        self.expect(allowed, result, f"store {scope} as {who}")
        if result[0] == "ok":
            self.record(result[1], who, body)

    @rule(data=st.data(), session=sessions)
    def store_as_the_sessions_owner(self, data: st.DataObject, session: str) -> None:
        who = Who(self.model.sessions[session], session)
        self.counter += 1
        body = f"owned {self.counter}".encode()
        result = self.outcome(who, "store", body, mime="text/plain", ttl=3600)
        self.expect(True, result, f"store into {session} as {who}")
        self.record(result[1], who, body)

    @rule(data=st.data(), meta=HOSTILE_META, filename=ANY_TEXT, mime=ANY_TEXT, summary=ANY_TEXT)
    def store_odd_things(
        self, data: st.DataObject, meta: Any, filename: str, mime: str, summary: str
    ) -> None:
        """Whatever a principal manages to store, every listing keeps working (invariant)."""
        who = data.draw(self.who())
        self.counter += 1
        body = f"odd {self.counter}".encode()
        allowed = self.model.may_store(who, "session")
        result = self.outcome(
            who, "store", body, meta=meta, filename=filename, mime=mime, summary=summary
        )
        if not allowed:
            assert result[0] != "ok", f"store as {who} succeeded against the rules"
        if result[0] == "ok":
            self.record(result[1], who, body)
            assert self.snapshot(result[1])["meta"] == meta  # what was accepted reads back

    def record(self, artifact_id: str, who: Who, body: bytes) -> None:
        stored = self.snapshot(artifact_id)
        self.note_session(stored["session_id"], who.user)
        self.model.arts[artifact_id] = Art(
            artifact_id,
            stored["scope"],
            who.user,
            stored["session_id"],
            body,
        )

    def pick(self, data: st.DataObject) -> Art:
        """A live artifact, drawn by position (ids differ from run to run)."""
        known = list(self.model.arts.values())
        return known[data.draw(st.integers(0, 63)) % len(known)]

    @precondition(lambda self: self.model.arts)
    @rule(data=st.data())
    def read(self, data: st.DataObject) -> None:
        art = self.pick(data)
        artifact_id = art.artifact_id
        who = data.draw(self.who())
        result = self.outcome(who, "retrieve", artifact_id)
        self.expect(self.model.may_read(art, who), result, f"read {art} as {who}")
        if result[0] == "ok":
            assert result[1] == art.data
        meta = self.outcome(who, "metadata", artifact_id)
        self.expect(self.model.may_read(art, who), meta, f"metadata of {art} as {who}")

    @precondition(lambda self: self.model.arts)
    @rule(data=st.data())
    def presign(self, data: st.DataObject) -> None:
        art = self.pick(data)
        artifact_id = art.artifact_id
        who = data.draw(self.who())
        result = self.outcome(who, "presign", artifact_id, expires=60)
        self.expect(self.model.may_read(art, who), result, f"presign {art} as {who}")
        if result[0] == "ok":
            served = self.run(self.fetch(result[1].url))
            assert served in (None, art.data)

    @precondition(lambda self: self.model.arts)
    @rule(data=st.data(), summary=st.sampled_from(("a", "b")))
    def update(self, data: st.DataObject, summary: str) -> None:
        art = self.pick(data)
        artifact_id = art.artifact_id
        who = data.draw(self.who())
        before = self.snapshot(artifact_id)
        result = self.outcome(who, "update_metadata", artifact_id, summary=summary)
        self.expect(self.model.may_write(art, who), result, f"update {art} as {who}")
        if result[0] != "ok":
            assert self.snapshot(artifact_id) == before

    def another_session(self, art: Art) -> str | None:
        return next((s for s in self.model.sessions if s != art.session), None)

    @precondition(lambda self: self.model.arts)
    @rule(data=st.data(), other=st.booleans())
    def copy(self, data: st.DataObject, other: bool) -> None:
        art = self.pick(data)
        artifact_id = art.artifact_id
        who = data.draw(self.who())
        target = self.another_session(art) if other else None
        allowed = target is None and self.model.may_write(art, who)
        result = self.outcome(who, "copy_file", artifact_id, target_session_id=target)
        self.expect(allowed, result, f"copy {art} into {target} as {who}")
        if result[0] != "ok":
            return
        copy_id = result[1]
        stored = self.snapshot(copy_id)
        assert stored["session_id"] == art.session
        assert stored["scope"] == art.scope
        self.model.arts[copy_id] = dataclasses.replace(art, artifact_id=copy_id)

    @precondition(lambda self: self.model.arts)
    @rule(data=st.data(), other=st.booleans())
    def move(self, data: st.DataObject, other: bool) -> None:
        art = self.pick(data)
        artifact_id = art.artifact_id
        who = data.draw(self.who())
        target = self.another_session(art) if other else None
        before = self.snapshot(artifact_id)
        allowed = target is None and self.model.may_write(art, who)
        result = self.outcome(
            who, "move_file", artifact_id, new_filename="moved.txt", new_session_id=target
        )
        self.expect(allowed, result, f"move {art} into {target} as {who}")
        after = self.snapshot(artifact_id)
        assert after["session_id"] == art.session
        if result[0] != "ok":
            assert after == before

    @precondition(lambda self: self.model.arts)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        art = self.pick(data)
        artifact_id = art.artifact_id
        who = data.draw(self.who())
        before = self.snapshot(artifact_id)
        result = self.outcome(who, "delete", artifact_id)
        self.expect(self.model.may_write(art, who), result, f"delete {art} as {who}")
        if result[0] == "ok":
            del self.model.arts[artifact_id]
        else:
            assert self.snapshot(artifact_id) == before

    def pages(self, who: Who, method: str, *args: Any, **kwargs: Any) -> set[str]:
        found: list[str] = []
        cursor = None
        for _ in range(200):
            page = self.run(self.attempt(who, method, *args, limit=2, cursor=cursor, **kwargs))
            found += [item.artifact_id for item in page]
            cursor = page.next_cursor
            if cursor is None:
                break
            assert len(page) == 2, f"a short page before the end: {page!r}"
        assert len(found) == len(set(found)), f"an artifact listed twice: {found}"
        return set(found)

    @rule(data=st.data(), session=sessions)
    def list_session(self, data: st.DataObject, session: str) -> None:
        who = dataclasses.replace(data.draw(self.who()), session=None)
        listed = self.pages(who, "list_by_session", session)
        assert listed == self.model.listed(who, session), f"list {session} as {who}"

    @rule(data=st.data(), scope=st.sampled_from((None, "session", "user", "sandbox")))
    def search(self, data: st.DataObject, scope: str | None) -> None:
        who = data.draw(self.who())
        if not who.anonymous and not self.model.valid(who):
            # another's session finds nothing, as an unknown session does
            found = self.pages(who, "search", scope=scope)
            assert found == set(), f"search as {who} with another's session"
            return
        found = self.pages(who, "search", scope=scope)
        assert found == self.model.searched(who, scope), f"search {scope} as {who}"

    @invariant()
    def the_application_lists_everything(self) -> None:
        if self.model.sessions:  # (after initialisation)
            assert self.pages(Who(None), "search") == set(self.model.arts)


class LibraryAccess(AccessMachine):
    async def start(self, data_dir: Path) -> None:
        settings = Settings(data_dir=data_dir)
        self.store_ = await self.stack.enter_async_context(
            ArtifactStore(storage_provider="filesystem", settings=settings)
        )

    def reach(self, who: Who) -> tuple[Any, dict[str, Any]]:
        return self.store_, {"user_id": who.user, "session_id": who.session}


class HttpAccess(AccessMachine):
    async def start(self, data_dir: Path) -> None:
        app = await self.stack.enter_async_context(running_app(data_dir, anon_read=True))
        self.transport = httpx.ASGITransport(app=app)
        self.remotes: dict[str | None, RemoteArtifactStore] = {}
        for name, token in (("admin", ADMIN), ("alice", ALICE), ("bob", BOB), (None, None)):
            remote = RemoteArtifactStore("http://test", token, transport=self.transport)
            self.remotes[name] = await self.stack.enter_async_context(remote)
        self.fetcher = await self.stack.enter_async_context(
            httpx.AsyncClient(transport=self.transport, base_url="http://test")
        )

    def reach(self, who: Who) -> tuple[Any, dict[str, Any]]:
        if who.anonymous:
            return self.remotes[None], {}
        ids: dict[str, Any] = {"session_id": who.session}
        if who.user in ("alice", "bob"):
            return self.remotes[who.user], ids  # the token is the user
        return self.remotes["admin"], {**ids, "user_id": who.user}  # the app, or carol

    def who(self) -> st.SearchStrategy[Who]:
        return super().who() | st.just(Who(None, anonymous=True))

    async def fetch(self, url: str) -> bytes | None:
        answer = await self.fetcher.get(url)
        assert answer.status_code == 200, answer.text
        return answer.content


_PHASES = tuple(Phase) if os.environ.get("ACCESS_SHRINK") else tuple(set(Phase) - {Phase.shrink})
_SETTINGS = settings(
    phases=_PHASES,  # a failure is reported unshrunk (shrinking these runs takes minutes)
    max_examples=EXAMPLES,
    stateful_step_count=30,
    deadline=None,
    database=None,
    derandomize=not os.environ.get("ACCESS_RANDOM"),  # the suite's runs are repeatable
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
LibraryAccess.TestCase.settings = _SETTINGS
HttpAccess.TestCase.settings = _SETTINGS
TestLibraryAccess = LibraryAccess.TestCase
TestHttpAccess = HttpAccess.TestCase
