"""The one place where anything raised while serving HTTP becomes a response."""
import json
import logging

from nameko.exceptions import RemoteError
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response

from oms_common.problems import Problem

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"


def json_response(payload, status=200, headers=None):
    return Response(json.dumps(payload, ensure_ascii=False, default=str), status=status,
                    mimetype="application/json", headers=headers)


def problem_response(problem):
    headers = {}
    allowed = getattr(problem, "allowed", None)
    if allowed:
        headers["Allow"] = ", ".join(allowed)
    if problem.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="oms"'
    return Response(json.dumps(problem.as_dict(), ensure_ascii=False), status=problem.status,
                    mimetype=PROBLEM_TYPE, headers=headers)


def unexpected_response(exc):
    # Details of unexpected failures stay in the log (with the correlation id), not the answer.
    log.error("unexpected error while serving a request: %r", exc, exc_info=exc)
    body = {"type": "https://oms.example/problems/internal-error", "title": "Internal error", "status": 500,
            "detail": "The request failed unexpectedly; it has been logged."}
    return Response(json.dumps(body), status=500, mimetype=PROBLEM_TYPE)


class ApiEntrypoint(HttpRequestHandler):
    def response_from_exception(self, exc):
        if isinstance(exc, Problem):
            return problem_response(exc)
        if isinstance(exc, RemoteError):
            return unexpected_response(exc)
        return unexpected_response(exc)

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, payload = result if isinstance(result, tuple) else (200, result)
        return json_response(payload, status)


api = ApiEntrypoint.decorator
