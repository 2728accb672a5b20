"""Every user's own account page: change one's password (the current one, the new one twice, the
password rules of workflow/accounts.py) and one's API tokens. The engine checks the current
password as a sign-in does and keeps the rules; a new password ends every session of the user,
so this browser is given a fresh one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from i18n import Msg
from web.admin import beijing, issue_token
from web.auth import Me, Posted, client_address, start_session
from web.pages import DONE, engine_of, flash_words, render
from workflow.accounts import MIN_PASSWORD
from workflow.errors import InvalidInput

router = APIRouter(include_in_schema=False)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, me: Me) -> Response:
    engine = engine_of(request)
    return render(
        request,
        "account.html",
        me,
        tokens=engine.tokens(me.user.name, me.user.name),
        minimum=MIN_PASSWORD,
        local=beijing,
    )


@router.post("/account/password")
def change_password(request: Request, me: Me, form: Posted) -> Response:
    engine = engine_of(request)
    new, again = form.get("new_password", ""), form.get("new_password_again", "")
    if new != again:
        raise InvalidInput(Msg("password"), [Msg("the two new passwords differ")])
    current = form.get("current_password", "")
    user = engine.change_password(me.user.name, current, new, client_address(request))
    # (every session of the user has ended with the old password: this browser signs in afresh)
    token, session = engine.open_session(user, request.app.state.idle)
    said = Msg("Your password is changed; your other sessions have ended")
    engine.flash(session, {"kind": "ok", "title": flash_words(DONE), "text": flash_words(said)})
    response = RedirectResponse("/account", status_code=303)
    start_session(request, response, token)
    return response


@router.post("/account/tokens")
def add_own_token(request: Request, me: Me, form: Posted) -> Response:
    return issue_token(request, me, form, me.user.name, "/account")
