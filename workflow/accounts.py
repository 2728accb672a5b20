"""Signing in: users' passwords (Argon2id hashes), browser sessions and API tokens.

Mixed into the engine. A password is set by the lead for anyone or by a user for themself; only
its Argon2id hash is kept. Wrong sign-ins are throttled by client address (workflow/throttle.py):
five from one address against one name in fifteen minutes make that address wait for that name,
and no other address; the lead can unlock a name at once. A
session or token is a random secret handed to the browser or script once; the database keeps
its sha256 only, so a copy of the database signs nobody in. Sessions and tokens live in real
time (a rehearsal's clock moves the evaluation, not the office's sign-ins).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from i18n import Joined, Msg, language
from workflow.clock import utc_now
from workflow.common import EngineCore, UserContext, role_of
from workflow.errors import InvalidInput, NotFound, NotPermitted, NotSignedIn
from workflow.program import ROLES
from workflow.records import ApiToken, Credential, User, WebSession
from workflow.throttle import LOCAL, WINDOW, SignInThrottle
from workflow.throttle import MAX_FAILURES as MAX_FAILURES  # (re-exported: the console names it)

if TYPE_CHECKING:
    from workflow.ports import StoreTx

MIN_PASSWORD = 10
LOCKOUT = WINDOW  # MAX_FAILURES wrong sign-ins from one address against one name in it make that address wait
UNLOCK = "unlock_user"  # the audit action of the lead's unlock
# a token's last use is written at most this often: reading with a token writes nothing in between
TOUCH_EVERY = timedelta(minutes=5)
# a session's last-seen time is written at most once in this share of the idle timeout (30 minutes:
# every 3): a page read writes nothing in between, and a session ends at most that much early
TOUCH_SHARE = 10

_hasher: Any = None


def hasher() -> Any:
    """The Argon2id hasher (argon2-cffi's RFC 9106 low-memory profile), made once."""
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher
        from argon2.profiles import RFC_9106_LOW_MEMORY

        _hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
    return _hasher


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def password_problems(name: str, password: str) -> list[Msg]:
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(
            Msg(
                "a password needs at least {minimum} characters (this one has {count})",
                minimum=MIN_PASSWORD,
                count=len(password),
            )
        )
    if password.strip().lower() == name.strip().lower():
        problems.append(Msg("a password must not be the user's name"))
    return problems


def check_role(programs: Any, role: str, city: str | None, needs_city: Msg) -> None:
    """A user's role and city, as adding a user and changing one check them: a known role, a city
    for a city's role (``needs_city`` says so in the caller's words), a city some program knows."""
    if role not in ROLES:
        raise InvalidInput(
            Msg("role"), [Msg("{role} is not one of {roles}", role=repr(role), roles=Joined(ROLES, ", "))]
        )
    if role in ("city-admin", "scorer") and not city:
        raise InvalidInput("user", [needs_city])
    known = {p.id for pid in programs.ids() for p in programs.get(pid).parties}
    if city and known and city not in known:
        raise NotFound("city", city, Msg("known cities: {cities}", cities=Joined(sorted(known), ", ")))


class AccountActions(EngineCore):
    """Passwords, sessions and tokens; the engine's store, clock and audit are used as they are."""

    def _self_or_lead(self, act: UserContext, name: str, verb: Msg) -> User:
        user = act.user
        target = self._user(act.tx, name)
        if user.role != "lead" and user.name != target.name:
            why = Msg("{name} is {role}; only the lead acts for others", name=user.name, role=role_of(user.role))
            raise NotPermitted(verb, Msg("user {name}", name=name), why)
        return target

    @staticmethod
    def _managing(act: UserContext, verb: Msg, what: Msg) -> None:
        """Refuse ``verb`` on ``what`` unless the acting user is the lead (who alone manages users)."""
        if act.user.role != "lead":
            why = Msg(
                "{name} is {role}; users are managed by the lead", name=act.user.name, role=role_of(act.user.role)
            )
            raise NotPermitted(verb, what, why)

    def _lead(self, act: UserContext, verb: Msg, name: str) -> User:
        """The user ``name``, once the acting user is the lead (who alone manages users)."""
        self._managing(act, verb, Msg("user {name}", name=name))
        return self._user(act.tx, name)

    # -- managing users (the lead) ----------------------------------------------------------
    def administrator(self, acting: str | None) -> User:
        """The acting user, if they are the lead, who alone administers (opens cycles, manages
        users and overrides, checks the trail); else NotPermitted."""
        with self._as_user(acting, write=False) as act:
            if act.user.role != "lead":
                why = Msg("{name} is {role}; the lead administers", name=act.user.name, role=role_of(act.user.role))
                raise NotPermitted(Msg("open"), Msg("the administration"), why)
            return act.user

    def user_accounts(self, acting: str | None) -> list[User]:
        """Every user, active or not, for the lead's administration."""
        with self._as_user(acting, write=False) as act:
            self._managing(act, Msg("list"), Msg("the users"))
            return act.tx.list_users()

    def set_active(self, acting: str | None, name: str, active: bool) -> User:
        """Deactivate a user (they sign in no more; their sessions end and their tokens stop
        working) or reactivate them. The lead, for anyone but themself; the user and their trail stay."""
        verb = Msg("reactivate") if active else Msg("deactivate")
        with self._as_user(acting) as act:
            target = self._lead(act, verb, name)
            if target.name == act.user.name:
                raise NotPermitted(verb, Msg("user {name}", name=name), Msg("the lead cannot deactivate themself"))
            if target.active == active:
                return target
            act.tx.update_user(target.name, active=active)
            ended = 0 if active else act.tx.end_sessions(user=target.name)
            action = "activate_user" if active else "deactivate_user"
            act.audit(
                None, "user", target.name, action, to_state="active" if active else "inactive", sessions_ended=ended
            )
            target.active = active
        return target

    def change_user(self, acting: str | None, name: str, role: str, city: str | None) -> User:
        """Give a user another role or city (the lead; not their own role: the cycle keeps its lead).
        The same checks as adding a user: a known role, a city for a city's role, a known city."""
        check_role(self.programs, role, city, Msg("a {role} needs a city", role=role_of(role)))
        with self._as_user(acting) as act:
            target = self._lead(act, Msg("change the role of"), name)
            if target.name == act.user.name and role != "lead":
                why = Msg("the lead cannot give up their own role")
                raise NotPermitted(Msg("change the role of"), Msg("user {name}", name=name), why)
            city = city or None
            if (target.role, target.city) == (role, city):
                return target
            act.tx.update_user(target.name, role=role, city=city)
            act.audit(None, "user", target.name, "change_user", from_state=target.role, to_state=role, city=city)
            target.role, target.city = role, city
        return target

    # -- passwords ----------------------------------------------------------------------------
    def change_password(self, name: str, current: str, new: str, client: str | None = None) -> User:
        """A user changes their own password: the current one is checked as a sign-in from
        ``client`` checks it (a wrong one counts towards the throttle), then the new one must keep
        the password rules. Every session of the user ends; the caller opens a new one."""
        try:
            user = self.sign_in(name, current, client)
        except NotSignedIn:
            raise InvalidInput(Msg("current password"), [Msg("the current password is wrong")]) from None
        self.set_password(user.name, user.name, new)
        return user

    def set_password(self, acting: str | None, name: str, password: str) -> None:
        """Set ``name``'s password (the lead for anyone, a user for themself); every session of
        that user ends, so a stolen browser is signed out by a new password."""
        problems = password_problems(name, password)
        if problems:
            raise InvalidInput("password", problems)
        hashed = hasher().hash(password)
        with self._as_user(acting) as act:
            target = self._self_or_lead(act, name, Msg("set the password of"))
            act.tx.save_credential(Credential(target.name, hashed, utc_now()))
            ended = act.tx.end_sessions(user=target.name)
            act.audit(None, "user", target.name, "set_password", sessions_ended=ended)

    @property
    def sign_in_throttle(self) -> SignInThrottle:
        """The engine's sign-in throttle (in memory, made when first needed; a server that shares
        its counts between workers sets one with another storage)."""
        found: SignInThrottle | None = self.__dict__.get("_sign_in_throttle")
        if found is None:
            found = self.__dict__["_sign_in_throttle"] = SignInThrottle()
        return found

    @sign_in_throttle.setter
    def sign_in_throttle(self, throttle: SignInThrottle) -> None:
        self.__dict__["_sign_in_throttle"] = throttle

    @staticmethod
    def _unlocks(tx: StoreTx, name: str) -> int:
        """How many times ``name`` has been unlocked: by the lead's unlock, or by a new password
        (the guesses counted were against the old one). The throttle's generation of the name."""
        return sum(1 for e in tx.history(subject="user", subject_id=name) if e.action in (UNLOCK, "set_password"))

    def sign_in(self, name: str, password: str, client: str | None = None) -> User:
        """The user, if ``password`` is theirs; else NotSignedIn. Sign-ins are throttled by the
        client's address (``client``; None: no network, the command line): an address with too
        many wrong ones lately waits, for that name or for all, while every other address signs
        in as before. An unknown name, a wrong password and an address that must wait get one
        and the same answer, so that none tells whether a name exists."""
        address = client or LOCAL
        wrong = NotSignedIn(Msg("the name or the password is wrong"))
        throttle = self.sign_in_throttle
        with self.store.transaction() as tx:
            generation = self._unlocks(tx, name)
            if throttle.waits(address, name, generation):
                raise wrong  # (before the password is even hashed: waiting costs the server nothing)
            user = tx.get_user(name)
            cred = tx.get_credential(name) if user is not None else None
            right = False
            if user is None or cred is None:
                hasher().hash(password)  # the same time whether or not the name exists
            else:
                try:
                    right = hasher().verify(cred.password_hash, password)
                except Exception:  # argon2's VerifyMismatchError, or a damaged hash
                    right = False
                rehash = right and hasher().check_needs_rehash(cred.password_hash)  # the parameters moved on
                # (a count or lock kept by the former per-name lock is cleared on the way)
                if right and (cred.failures or cred.locked_until or rehash):
                    if rehash:
                        cred.password_hash = hasher().hash(password)
                    cred.failures, cred.locked_until = 0, None
                    tx.save_credential(cred)
        if not right or user is None:
            throttle.failed(address, name, generation)
            raise wrong
        throttle.succeeded(address, name, generation)
        if not user.active:  # (said only to the holder of the right password)
            raise NotSignedIn(Msg("{name} has been deactivated; ask the lead", name=name))
        return user

    def unlock(self, acting: str | None, name: str) -> User:
        """Let ``name`` sign in again from every address at once (the lead): the wrong sign-ins
        counted against the name so far are forgotten, in this server and in every other one
        (the unlock is an audited act in the database, which each throttle reads)."""
        with self._as_user(acting) as act:
            target = self._lead(act, Msg("unlock"), name)
            cred = act.tx.get_credential(target.name)
            if cred is not None and (cred.failures or cred.locked_until):  # (a lock of the former kind)
                cred.failures, cred.locked_until = 0, None
                act.tx.save_credential(cred)
            act.audit(None, "user", target.name, UNLOCK)
        return target

    # -- the console's language ---------------------------------------------------------------
    def set_language(self, name: str, lang: str) -> User:
        """Make ``lang`` (zh_CN or en) the language the console speaks to ``name`` (a user's own
        choice, in the console's header: not an act of the evaluation, so not audited). The
        console names only the two; anything else is a ValueError."""
        chosen = language(lang)
        with self.store.transaction() as tx:
            user = tx.get_user(name)
            if user is None:
                raise NotFound("user", name)
            tx.set_user_language(name, chosen)
            user.language = chosen
        return user

    # -- sessions -----------------------------------------------------------------------------
    def open_session(self, user: User, idle: timedelta | None = None) -> tuple[str, WebSession]:
        """A new signed-in session for ``user``: the cookie's token (given out once) and the session.
        Given the idle timeout, every session idle longer than it is ended on the way."""
        token = secrets.token_urlsafe(32)
        at = utc_now()
        session = WebSession(digest(token), user.name, secrets.token_urlsafe(32), at, at)
        with self.store.transaction() as tx:
            if idle is not None:
                tx.end_sessions(idle_before=at - idle)
            tx.add_session(session)
        return token, session

    def session_of(self, token: str, idle: timedelta) -> tuple[User, WebSession] | None:
        """The user and session of a cookie's token, or None when it is unknown or has been idle
        longer than ``idle`` (then it is ended). Read in a read-only transaction: the last-seen
        time is written only when it is older than a tenth of ``idle`` (``TOUCH_SHARE``), so that
        reading a page writes nothing (no write lock on SQLite) but once every few minutes. The
        idle timeout is therefore kept to within that tenth, and never late: a session idle for
        ``idle`` since its last request is ended, one idle for nine tenths of it may be."""
        at = utc_now()
        with self.store.transaction(write=False) as tx:
            session = tx.get_session(digest(token))
            if session is None:
                return None
            expired = at - session.seen_at > idle
            user = None if expired else tx.get_user(session.user_name)
        if expired:
            with self.store.transaction() as tx:
                tx.end_sessions(session_id=session.id)
            return None
        if user is None or not user.active:
            return None
        if at - session.seen_at > max(idle / TOUCH_SHARE, timedelta(seconds=1)):
            with self.store.transaction() as tx:
                tx.touch_session(session.id, at)
            session.seen_at = at
        return user, session

    def flash(self, session: WebSession, message: dict[str, Any] | None = None) -> list[Any]:
        """Add a message to show on the session's next page, or (no message) take the ones waiting."""
        with self.store.transaction() as tx:
            current = tx.get_session(session.id)
            if current is None:
                return []
            if message is not None:
                tx.touch_session(session.id, current.seen_at, [*current.flash, message])
                return []
            if current.flash:
                tx.touch_session(session.id, current.seen_at, [])
            return current.flash

    def close_session(self, token: str) -> None:
        with self.store.transaction() as tx:
            tx.end_sessions(session_id=digest(token))

    # -- API tokens ---------------------------------------------------------------------------
    def new_token(self, acting: str | None, name: str, label: str) -> tuple[str, ApiToken]:
        """A new API token for ``name`` (the lead for anyone, a user for themself): the secret is
        given out once; the database keeps its sha256."""
        secret = "ef_" + secrets.token_urlsafe(32)
        with self._as_user(acting) as act:
            target = self._self_or_lead(act, name, Msg("make a token for"))
            token = ApiToken(target.name, label, digest(secret), utc_now())
            act.tx.add_token(token)
            act.audit(None, "user", target.name, "new_token", to_state=str(token.id), label=label)
        return secret, token

    def token_user(self, secret: str) -> User | None:
        """The user of a token, or None when it is unknown or revoked. Read in a read-only
        transaction; its last use is written at most every ``TOUCH_EVERY`` (a call with the token
        writes nothing in between)."""
        with self.store.transaction(write=False) as tx:
            token = tx.find_token(digest(secret))
            if token is None or token.revoked_at is not None:
                return None
            user = tx.get_user(token.user_name)
            if user is None or not user.active:  # (a deactivated user's tokens stop working)
                return None
        at = utc_now()
        if token.last_used is None or at - token.last_used > TOUCH_EVERY:
            assert token.id is not None  # (a stored token has its id)
            with self.store.transaction() as tx:
                tx.mark_token(token.id, last_used=at)
        return user

    def tokens(self, acting: str | None, name: str | None = None) -> list[ApiToken]:
        """The tokens of ``name`` (default: the acting user's; the lead may ask for anyone's, or all)."""
        with self._as_user(acting, write=False) as act:
            user = act.user
            if user.role == "lead":
                return act.tx.tokens(name)
            if name is not None and name != user.name:
                raise NotPermitted(
                    Msg("list the tokens of"),
                    Msg("user {name}", name=name),
                    Msg("{name} is {role}", name=user.name, role=role_of(user.role)),
                )
            return act.tx.tokens(user.name)

    def revoke_token(self, acting: str | None, token_id: int) -> ApiToken:
        """Revoke an API token (the lead any, a user their own); revoking it again changes nothing."""
        with self._as_user(acting) as act:
            token = act.tx.get_token(token_id)
            if token is None or (act.user.role != "lead" and token.user_name != act.user.name):
                raise NotFound("token", token_id)
            if token.revoked_at is None:
                token.revoked_at = utc_now()
                act.tx.mark_token(token_id, revoked_at=token.revoked_at)
                act.audit(None, "user", token.user_name, "revoke_token", to_state=str(token_id))
            return token
