"""HTTP answers every OMS listener gives alike: JSON, and application/problem+json for refusals."""

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from .problems import Problem

PROBLEM_TYPE = "application/problem+json"


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, default=str),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def problem_response(problem: "Problem") -> Response:
    headers: dict[str, str] = {}
    allowed = getattr(problem, "allowed", None)
    if allowed:
        headers["Allow"] = ", ".join(allowed)
    if problem.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="oms"'
    retry_after = getattr(problem, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return Response(
        json.dumps(problem.as_dict(), ensure_ascii=False), status=problem.status, mimetype=PROBLEM_TYPE, headers=headers
    )
