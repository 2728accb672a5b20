"""`evalflow serve`: the web console (server-rendered pages, in Chinese or English) and the JSON API
under /api/, both on the one engine. Every change goes through the engine's door with the
signed-in user as the acting user; scoping is the engine's own (a city reads its own projects,
and the key-library projects once joint scoring has begun).

Browsers sign in with a name and password and carry a session cookie (HttpOnly, SameSite=Lax;
Secure behind TLS); every form carries the session's CSRF token; a session idle longer than
the idle timeout is ended. Scripts send ``Authorization: Bearer TOKEN`` (``evalflow user token add``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import i18n
from i18n import Msg
from web import (
    account,
    admin,
    api,
    api_admin,
    api_cli,
    api_documents,
    api_files,
    api_listpage,
    api_plist,
    api_portal,
    api_scores,
    api_uploads,
    attachments,
    docs_page,
    documents_page,
    openapi,
    pages,
    portal,
    project_list,
    public,
    uploads,
)
from web.auth import SignInNeeded
from web.language import language_of
from web.problems import as_text, problems_of
from workflow.errors import (
    ConcurrentChange,
    EvalflowError,
    InvalidInput,
    NotFound,
    NotPermitted,
    NotSignedIn,
    RendererMissing,
    RuleRefused,
    StoreUnavailable,
)
from workflow.program import ProgramRegistry

HERE = Path(__file__).resolve().parent

# the API's statuses for the engine's errors (the CLI's exit codes, as HTTP says them)
STATUS = {
    RuleRefused: 422,
    NotPermitted: 403,
    NotFound: 404,
    ConcurrentChange: 409,
    InvalidInput: 400,
    NotSignedIn: 401,
    StoreUnavailable: 503,
    RendererMissing: 503,
}


# the error kinds of the framework's own refusals under /api/ (an unreadable body, an unknown path…)
HTTP_KINDS = {400: "invalid_input", 401: "not_signed_in", 403: "not_permitted", 404: "not_found", 405: "not_allowed"}
# the framework's own words for them, as messages (any other detail is shown as it is)
HTTP_DETAILS = {
    m.id: m
    for m in (
        Msg("There was an error parsing the body"),
        Msg("Not Found"),
        Msg("Method Not Allowed"),
        Msg("Not authenticated"),
    )
}


def status_of(exc: EvalflowError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(exc: EvalflowError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": exc.kind, "message": str(exc)}
    if isinstance(exc, RuleRefused):
        body["rules"] = exc.rules
        body["reasons"] = [{"rule": r.rule, "message": r.text, "parties": list(r.parties)} for r in exc.rejections]
    if isinstance(exc, InvalidInput):
        body["problems"] = as_text(exc.problems)
    return body


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, message: str, **params: Any) -> str:
    """A template's ``_("Project {id}", id=p.id)``: the catalog's words in the request's language
    with the parameters put in as a message puts them (``str.format``, so the templates and the
    code write placeholders alike). The catalog's words may hold markup of the page; each
    parameter is escaped."""
    return _formatted(eval_ctx, i18n._(message), params)


@pass_eval_context
def template_ngettext(eval_ctx: EvalContext, singular: str, plural: str, n: int, **params: Any) -> str:
    """A template's ``ngettext``: as :func:`template_gettext`, by ``n`` (``{n}`` is given too)."""
    return _formatted(eval_ctx, i18n.ngettext(singular, plural, n), {"n": n, **params})


def _formatted(eval_ctx: EvalContext, text: str, params: dict[str, Any]) -> str:
    values = {k: i18n.rendered(v) for k, v in params.items()}
    if eval_ctx.autoescape:
        return Markup(text).format(**values) if values else Markup(text)
    return text.format(**values) if values else text


def create_app(engine: Any, idle_minutes: int = 30, secure_cookies: bool = False) -> FastAPI:
    app = FastAPI(
        title="evalflow",
        version="1",
        summary="The JSON API of evalflow: cycles, projects, score sheets, the list, appeals.",
        description=(
            "Every call acts as the user of its token (`Authorization: Bearer TOKEN`; make one with "
            "`evalflow user token add NAME`). Errors: 400 invalid input, 401 not signed in, 403 not "
            "permitted, 404 not found (or not visible to you), 409 changed concurrently, 422 refused by a "
            "rule (the body names every failed rule with its numbers)."
        ),
        docs_url=None,  # (web/docs_page.py serves /api/docs without a CDN, under the CSP)
        swagger_ui_oauth2_redirect_url=None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.idle = timedelta(minutes=idle_minutes)
    app.state.secure_cookies = secure_cookies
    app.state.cli_env = {}  # what `evalflow serve` was given that a command run for a caller needs too
    app.state.cli_root = None  # its command tree (`POST /api/cli`: none, when the app is made without it)
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    # the templates' words come from the catalog, in the language of the request being answered
    app.state.templates.env.add_extension("jinja2.ext.i18n")
    app.state.templates.env.install_gettext_callables(gettext=template_gettext, ngettext=template_ngettext)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    docs_page.install(app)
    app.include_router(api.router)
    app.include_router(api_admin.router)
    app.include_router(api_cli.router)  # (`evalflow login`: the command line through the server)
    app.include_router(api_listpage.router)
    app.include_router(api_plist.router)
    app.include_router(api_uploads.router)
    app.include_router(api_scores.router)
    app.include_router(api_documents.router)
    app.include_router(project_list.router)  # (before pages: /projects/export is not a project)
    app.include_router(pages.router)
    app.include_router(documents_page.router)
    app.include_router(public.router)  # (read without signing in: what is published, nothing else)
    app.include_router(api_files.router)
    attachments.install(app)
    app.include_router(uploads.router)
    app.include_router(admin.router)
    app.include_router(account.router)
    app.include_router(api_portal.router)
    app.include_router(portal.router)
    # the document types each action's parameters by the programs this server loads (an app made
    # without an engine, to read the document only, by the programs found where the engine would look)
    openapi.install(
        app,
        lambda: engine.programs if engine is not None else ProgramRegistry(),
        api.router.prefix + api.ACTIONS_PATH,
    )

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/?=&')}", status_code=303)

    @app.exception_handler(EvalflowError)
    async def _evalflow_error(request: Request, exc: EvalflowError) -> Response:
        status = status_of(exc)
        if request.url.path.startswith("/api/"):
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return JSONResponse(error_body(exc), status_code=status, headers=headers)
        return pages.error_page(request, exc, status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        err = InvalidInput("request", problems_of(exc.errors()))
        if request.url.path.startswith("/api/"):
            return JSONResponse(error_body(err), status_code=400)
        return pages.error_page(request, err, 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # the framework's own refusals (an unreadable body, an unknown path or method): under /api/
        # in the API's error shape, like every other error; a page that is not there, or not for
        # that method, as the console's error page; the rest (a missing style sheet) as the
        # framework says them
        path = request.url.path
        if not path.startswith("/api/"):
            if path.startswith("/static/") or exc.status_code not in (404, 405):
                return await http_exception_handler(request, exc)
            err = (
                NotFound("page", path)
                if exc.status_code == 404
                else InvalidInput("request", [Msg("{path} does not take {method}", path=path, method=request.method)])
            )
            return pages.error_page(request, err, exc.status_code)
        detail = HTTP_DETAILS.get(str(exc.detail), str(exc.detail))
        if exc.status_code == 400:
            body = error_body(InvalidInput("request", [detail]))
        else:
            body = {"error": HTTP_KINDS.get(exc.status_code, "error"), "message": str(detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.middleware("http")
    async def _language(request: Request, call_next: Any) -> Response:
        # the whole request, its pages, errors and refusals, in the reader's language; reset after,
        # so that the next request on this worker starts from the process's own
        lang = await run_in_threadpool(language_of, request)
        token = i18n.set_language(lang)
        try:
            response: Response = await call_next(request)
        finally:
            i18n.reset_language(token)
        response.headers.setdefault("Content-Language", "en" if lang == "en" else "zh-CN")
        return response

    @app.middleware("http")
    async def _headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # every page, /api/docs too (its Swagger UI is served from here: web/docs_page.py)
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        )
        if not request.url.path.startswith(("/static/", docs_page.ASSETS + "/")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
