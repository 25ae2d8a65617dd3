"""REST API under /api/v1 (flask-smorest, marshmallow, OpenAPI)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from api.common.inputs import IdConverter, id_parameter_schema
from api.common.problems import PROBLEM_MIMETYPE, http_problem
from api.rest.common import ProblemSchema


class ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest Api whose error responses are RFC 9457 problems, and documented so."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """Document every error response as what it is: a Problem, as problem+json.

        flask-smorest registers one response per HTTP status (and `DEFAULT_ERROR`) with its
        default content type; ours are all `application/problem+json`.
        """
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
                prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "An error, as an RFC 9457 problem", "schema": ProblemSchema}
        prepare_response(default, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Any:
        """Render every HTTP error (including argument parsing 422s) as a problem."""
        return http_problem(error)


def register_api(app: Flask) -> Api:
    """Create the API and register every REST blueprint."""
    api = ProblemApi(
        app,
        spec_kwargs={
            "info": {"description": "ThinkFamily: multi-agency safeguarding processes."},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    from api.rest.agencies.views import bp as agencies_bp
    from api.rest.auth.views import bp as auth_bp
    from api.rest.calendar.views import bp as calendar_bp
    from api.rest.definitions.views import bp as definitions_bp
    from api.rest.families.views import bp as families_bp
    from api.rest.incidents.views import bp as incidents_bp
    from api.rest.instances.views import bp as instances_bp
    from api.rest.tasks.views import bp as tasks_bp

    for blueprint in (
        auth_bp,
        definitions_bp,
        instances_bp,
        tasks_bp,
        calendar_bp,
        incidents_bp,
        agencies_bp,
        families_bp,
    ):
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
    api.register_converter(IdConverter, id_parameter_schema)
    app.extensions["thinkfamily"]["api"] = api
    from api.rest.docs import bp as docs_bp
    from api.rest.health import bp as health_bp

    app.register_blueprint(docs_bp)
    app.register_blueprint(health_bp)
    return api
