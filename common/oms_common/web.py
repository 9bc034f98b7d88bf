"""HTTP answers every OMS listener gives alike: JSON, and application/problem+json for refusals."""
import json

from werkzeug.wrappers import Response

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
