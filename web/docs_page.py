"""The API's documentation page, /api/docs: Swagger UI served by this server itself.

FastAPI's own page loads Swagger UI's script and style sheet from a public CDN and starts it with
an inline script, so it can run under no Content-Security-Policy that allows scripts from 'self'
only. Here the script and style sheet come from the ``swagger-ui-py`` package's copy of Swagger
UI (mounted at /api/docs/assets), and the page is started by /static/api-docs.js: the page,
like every other, carries the console's CSP, and a browser reading it asks no other host.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from markupsafe import escape

DOCS = "/api/docs"
ASSETS = DOCS + "/assets"


def swagger_ui_folder() -> Path:
    """Swagger UI's files (swagger-ui-bundle.js, swagger-ui.css …) as the swagger-ui-py package has them."""
    return Path(str(files("swagger_ui") / "static"))


def page(title: str, openapi_url: str) -> str:
    """The documentation page: Swagger UI's style sheet and script, this server's starter script."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi="{escape(openapi_url)}"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Serve the documentation page and Swagger UI's files (the app is made with ``docs_url=None``)."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_folder()), name="swagger-ui")
    html = page(f"{app.title} — API", app.openapi_url or "/api/openapi.json")

    @app.get(DOCS, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(html)
