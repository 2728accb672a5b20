"""Who a request comes from: the console's session cookie and its CSRF tokens, and the API's
bearer token. The pages and the API depend on this module; it depends on neither, so the web
modules import one way only (app → pages, api → auth).

Browsers sign in with a name and password and carry a session cookie (HttpOnly, SameSite=Lax;
Secure behind TLS); the sign-in form carries a token of its own in a cookie (SameSite=Strict),
and every form after it the session's CSRF token. Scripts send ``Authorization: Bearer TOKEN``.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from i18n import Msg
from workflow.errors import NotPermitted, NotSignedIn
from workflow.records import User, WebSession

SESSION_COOKIE = "evalflow_session"
LOGIN_CSRF_COOKIE = "evalflow_login_csrf"

# the fields a refused form does not give back to its page (every other typed field is kept)
NOT_REFILLED = frozenset(
    {
        "csrf",
        "expected_version",
        "password",
        "password_again",
        "current_password",
        "new_password",
        "new_password_again",
        "token",
        "ids",
    }
)


class SignInNeeded(Exception):
    """A page asked for without a valid session: the browser goes to the sign-in page."""

    def __init__(self, next_url: str):
        self.next_url = next_url


class Signed:
    """The signed-in user of a page request, with their session."""

    def __init__(self, user: User, session: WebSession):
        self.user = user
        self.session = session


def session_of(request: Request) -> Signed | None:
    """The user and session of the request's session cookie (None: no cookie, or a session
    unknown, ended or idle too long). Read once a request: choosing the request's language
    reads it first."""
    token = request.cookies.get(SESSION_COOKIE)
    cached = getattr(request.state, "signed", None)
    if cached is not None and cached[0] == token:
        return cached[1]
    found = request.app.state.engine.session_of(token, request.app.state.idle) if token else None
    me = Signed(*found) if found else None
    request.state.signed = (token, me)
    return me


def signed(request: Request) -> Signed:
    """The signed-in user of a page; without one, the browser is sent to sign in (and back to
    the page it asked for, if it was a GET)."""
    me = session_of(request)
    if me is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target if request.method == "GET" else "/")
    return me


Me = Annotated[Signed, Depends(signed)]


async def checked_form(request: Request, me: Me) -> dict[str, str]:
    """The posted form, once its CSRF token is the session's (else 403, nothing done)."""
    form = await request.form()
    token = str(form.get("csrf", ""))
    if not tokens_match(token, me.session.csrf):
        why = Msg("its security token is missing or stale; reload the page and try again")
        raise NotPermitted(Msg("submit"), Msg("this form"), why)
    request.state.ids = [str(v) for v in form.getlist("ids")]  # the ticked projects of a list page
    request.state.form = {  # what a refused form gives back to its page: nothing typed is lost
        k: str(v) for k, v in form.items() if isinstance(v, str) and k not in NOT_REFILLED
    }
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


Posted = Annotated[dict[str, str], Depends(checked_form)]


def tokens_match(sent: str, expected: str) -> bool:
    """Whether a form came back with the token expected of it, compared in constant time as bytes
    (any text a form sends compares; an empty expectation matches nothing)."""
    return bool(expected) and secrets.compare_digest(sent.encode(), expected.encode())


def new_login_token() -> str:
    """A fresh token for the sign-in form (it has no session yet to carry one)."""
    return secrets.token_urlsafe(24)


def keep_login_token(request: Request, response: Response, token: str) -> None:
    """Send the sign-in form's token as a cookie too, to be compared when the form comes back."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.app.state.secure_cookies
    )


def client_address(request: Request) -> str | None:
    """The address a sign-in comes from, as the server sees it (the connection's peer; a proxy's
    X-Forwarded-For only where ``evalflow serve --forwarded-allow-ips`` trusts that proxy)."""
    return request.client.host if request.client is not None else None


def login_token_ok(request: Request, sent: str) -> bool:
    """Whether the sign-in form came back with the token its cookie holds."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return tokens_match(sent, expected)


def start_session(request: Request, response: Response, token: str) -> None:
    """Give the browser its session cookie; the sign-in form's token is spent."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.app.state.secure_cookies,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)


def end_session(request: Request, response: Response) -> None:
    """End the request's session and take its cookie back."""
    request.app.state.engine.close_session(request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE)


bearer = HTTPBearer(auto_error=False, description="An API token: `evalflow user token add NAME`.")


def _token_user(request: Request, secret: str) -> User | None:
    """The user of a bearer token, read once a request (choosing the request's language reads
    it first)."""
    cached = getattr(request.state, "token_user", None)
    if cached is not None and cached[0] == secret:
        return cached[1]
    user = request.app.state.engine.token_user(secret)
    request.state.token_user = (secret, user)
    return user


def api_user_of(request: Request) -> User | None:
    """The user of the request's bearer token, if it carries a known, live one."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return None
    return _token_user(request, secret)


def api_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None
) -> User:
    """The user of an API call's bearer token (NotSignedIn without a known, live token)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotSignedIn(Msg("send 'Authorization: Bearer TOKEN' (make one with 'evalflow user token add NAME')"))
    user = _token_user(request, credentials.credentials)
    if user is None:
        raise NotSignedIn(Msg("the token is unknown or revoked"))
    return user
