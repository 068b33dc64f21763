"""Serving the built frontend (Vite `dist/`) at `/`, with SPA fallback to index.html."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

NOT_BUILT_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>FASEL</title></head>
<body><h1>FASEL web server is running</h1>
<p>The frontend is not built yet (no <code>{dist}/index.html</code>). Build it with
<code>npm --prefix frontend ci &amp;&amp; npm --prefix frontend run build</code>, or use the API:
<a href="/docs">/docs</a>.</p></body></html>"""

RESERVED_PATHS = {"api", "docs", "redoc", "openapi.json"}
RESERVED_PREFIXES = ("api/", "docs/", "redoc/")


def add_frontend_routes(app: FastAPI, dist: Path) -> None:
    """GET `/{path}`: a file from `dist` if it exists, else index.html (client-side routes).

    Looked up per request, so building the frontend while the server runs works. API paths never fall
    back to index.html: an unknown `/api/...` path stays a JSON 404.
    """
    dist = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False, response_model=None)
    def frontend(path: str) -> FileResponse | HTMLResponse:
        if path in RESERVED_PATHS or path.startswith(RESERVED_PREFIXES):
            raise HTTPException(status_code=404, detail="Not Found")
        index = dist / "index.html"
        if not index.is_file():
            if path == "":
                return HTMLResponse(NOT_BUILT_PAGE.format(dist=dist))
            raise HTTPException(status_code=404, detail="Not Found")
        if path:
            candidate = (dist / path).resolve()
            if candidate.is_relative_to(dist) and candidate.is_file():
                return FileResponse(candidate)
            if path.startswith("assets/"):  # a missing hashed asset is a real 404, not the app shell
                raise HTTPException(status_code=404, detail="Not Found")
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
