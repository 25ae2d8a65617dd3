"""A browsable page for the OpenAPI document (server-rendered, no external scripts)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
def api_docs() -> str:
    """List every operation of the API with its summary, parameters and responses."""
    api = current_app.extensions["thinkfamily"]["api"]
    spec: dict[str, Any] = api.spec.to_dict()
    operations = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, op in methods.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary") or "",
                    "description": op.get("description") or "",
                    "tag": (op.get("tags") or [""])[0],
                    "parameters": [p.get("name", "") for p in op.get("parameters", [])],
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return render_template("api_docs.html", operations=operations, info=spec.get("info", {}))
