"""Write the web server's OpenAPI schema as JSON without starting a server (the frontend's client is generated
from it: `cd frontend && npm run generate-client`).

    python -m web_server.openapi frontend/openapi.json     (no argument: print to stdout)

The app is built from the settings' defaults only (no `.env`, no environment variables) over a throwaway
SQLite database, so the output is the same on every machine and run: keys sorted, no paths or secrets. Each
operation's `operationId` is its route function's name (`read_charts`, not FastAPI's
`read_charts_api_v1_attempts__attempt_id__charts_get`), so the generated SDK reads `readCharts(...)`.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from web_server.core.config import Settings
from web_server.main import create_app


class DefaultSettings(Settings):
    """The settings' defaults and the given values only: neither `.env` nor the environment is read."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def route_name(operation_id: str, path: str, method: str) -> str:
    """FastAPI's default id is `{name}{path}` with non-word characters as `_`, then `_{method}`: the name."""
    suffix = re.sub(r"\W", "_", path) + f"_{method}"
    return operation_id.removesuffix(suffix) if operation_id.endswith(suffix) else operation_id


def openapi_schema() -> dict[str, Any]:
    """The schema of an app built on a throwaway database; operation ids are the route functions' names."""
    with tempfile.TemporaryDirectory(prefix="fasel-openapi-") as tmp:
        settings = DefaultSettings(
            DATA_DIR=Path(tmp),
            MEDIA_DIR=Path(tmp) / "media",
            DATABASE_URL=f"sqlite:///{tmp}/openapi.db",
            FRONTEND_DIST=Path(tmp) / "dist",
            ANALYSIS_WORKERS=0,
        )
        app = create_app(settings)
        schema = app.openapi()
        app.state.engine.dispose()
    seen: dict[str, str] = {}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            name = route_name(operation.get("operationId", ""), path, method)
            if name in seen:
                raise SystemExit(f"two operations named {name!r}: {seen[name]} and {method.upper()} {path}")
            seen[name] = f"{method.upper()} {path}"
            operation["operationId"] = name
    return schema


def main(argv: list[str]) -> int:
    text = json.dumps(openapi_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if len(argv) > 1:
        Path(argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
