"""Users and the web console's sign-ins (passwords, sessions, API tokens) as rows."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from store import schema
from store.rows import TxBase
from workflow.ports import UserTx
from workflow.records import ApiToken, Credential, User, WebSession


class UserRows(TxBase):
    """Users, and the web console's passwords, signed-in sessions and API tokens."""

    def get_user(self, name: str) -> User | None:
        found = self._records(User, schema.users, schema.users.c.name == name)
        return found[0] if found else None

    def count_users(self) -> int:
        return self.s.connection().execute(select(func.count()).select_from(schema.users)).scalar_one()

    def add_user(self, user: User, at: datetime) -> None:
        self._insert(schema.users, user, created_at=at)

    def list_users(self) -> list[User]:
        t = schema.users
        return self._records(User, t, order_by=(t.c.role, t.c.city, t.c.name))

    def set_user_language(self, name: str, language: str) -> None:
        t = schema.users
        self.s.connection().execute(update(t).where(t.c.name == name).values(language=language))

    def update_user(self, name: str, **values: Any) -> None:
        t = schema.users
        self.s.connection().execute(update(t).where(t.c.name == name).values(**values))

    def get_credential(self, user: str) -> Credential | None:
        t = schema.credentials
        found = self._records(Credential, t, t.c.user_name == user)
        return found[0] if found else None

    def save_credential(self, credential: Credential) -> None:
        """Insert or replace a user's credential (a new password, a failure counted, a lock)."""
        t = schema.credentials
        values = {f.name: getattr(credential, f.name) for f in fields(credential)}
        done = self.s.connection().execute(update(t).where(t.c.user_name == credential.user_name).values(**values))
        if done.rowcount == 0:
            self._insert(t, credential)

    def add_session(self, session: WebSession) -> None:
        self._insert(schema.web_sessions, session)

    def get_session(self, session_id: str) -> WebSession | None:
        t = schema.web_sessions
        found = self._records(WebSession, t, t.c.id == session_id)
        return found[0] if found else None

    def touch_session(self, session_id: str, seen_at: datetime, flash: list[Any] | None = None) -> None:
        t = schema.web_sessions
        values: dict[str, Any] = {"seen_at": seen_at}
        if flash is not None:
            values["flash"] = flash
        self.s.connection().execute(update(t).where(t.c.id == session_id).values(**values))

    def end_sessions(
        self, session_id: str | None = None, user: str | None = None, idle_before: datetime | None = None
    ) -> int:
        """Delete one session, every session of a user, or every session idle since before a time."""
        t = schema.web_sessions
        query = delete(t)
        if session_id is not None:
            query = query.where(t.c.id == session_id)
        if user is not None:
            query = query.where(t.c.user_name == user)
        if idle_before is not None:
            query = query.where(t.c.seen_at < idle_before)
        return self.s.connection().execute(query).rowcount

    def add_token(self, token: ApiToken) -> None:
        self._insert(schema.api_tokens, token)

    def find_token(self, token_hash: str) -> ApiToken | None:
        t = schema.api_tokens
        found = self._records(ApiToken, t, t.c.token_hash == token_hash)
        return found[0] if found else None

    def get_token(self, token_id: int) -> ApiToken | None:
        t = schema.api_tokens
        found = self._records(ApiToken, t, t.c.id == token_id)
        return found[0] if found else None

    def tokens(self, user: str | None = None) -> list[ApiToken]:
        t = schema.api_tokens
        where = (t.c.user_name == user,) if user is not None else ()
        return self._records(ApiToken, t, *where, order_by=(t.c.id,))

    def mark_token(self, token_id: int, **values: datetime | None) -> int:
        """Set a token's ``last_used`` or ``revoked_at``."""
        t = schema.api_tokens
        return self.s.connection().execute(update(t).where(t.c.id == token_id).values(**values)).rowcount


# the type checker holds this backend to its port
_port: type[UserTx] = UserRows
