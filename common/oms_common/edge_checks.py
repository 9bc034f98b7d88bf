"""What no service can store, refused at the HTTP edge before a worker is taken: NUL and lone surrogates
in the path, the query, form fields and JSON strings, and JSON nested deeper than ``MAX_JSON_DEPTH``."""

import json
import re

from werkzeug.wrappers import Request

from .problems import BadRequest, NotFound, Problem, ValidationFailed

MAX_JSON_DEPTH = 64

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")


def json_depth(raw: bytes) -> int:
    """How deeply a JSON text nests arrays and objects (strings skipped)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # cannot be deeper than the count of its openers
    depth = deepest = 0
    for byte in _STRING.sub(b"", raw).translate(None, _BRACKETS):
        if byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def bad_text(value: str) -> str | None:
    """Why a string cannot be stored (NUL, lone surrogate), or None."""
    if "\x00" in value:
        return "NUL characters are not allowed."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Lone surrogate characters are not allowed."
    return None


def _first_bad_string(value: object, path: str = "") -> tuple[str, str] | None:
    if isinstance(value, str):
        reason = bad_text(value)
        return (path or "body", reason) if reason else None
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            reason = bad_text(key)
            if reason:
                return (path or "body", reason)
            found = _first_bad_string(inner, where)
            if found:
                return found
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found = _first_bad_string(inner, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def inspect_json(raw: bytes, problem: type[Problem] = ValidationFailed) -> None:
    """Refuses a JSON body nested too deeply (400) or carrying NUL / lone surrogates (``problem``)."""
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise BadRequest(
            f"The body nests deeper than {MAX_JSON_DEPTH} levels.",
            {"body": [f"Nested deeper than {MAX_JSON_DEPTH} levels."]},
        )
    if b"\\u" not in raw:
        return  # without escapes, strict UTF-8 and JSON's ban of raw control characters already hold
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return  # malformed: the entrypoint answers that in its own words
    found = _first_bad_string(value)
    if found:
        field, reason = found
        raise problem(f"Invalid input: {field}", {field: [reason]})


def inspect_target(request: Request) -> None:
    """NUL in the path (404) or in a query parameter (422 naming it)."""
    if "\x00" in request.path:
        raise NotFound("No such resource.", {"path": ["NUL characters are not allowed."]})
    for key, value in request.args.items(multi=True):
        reason = bad_text(key) or bad_text(value)
        if reason:
            field = "query" if bad_text(key) else key
            raise ValidationFailed(f"Invalid input: {field}", {field: [reason]})


def inspect_body(request: Request, problem: type[Problem] = ValidationFailed) -> None:
    raw = request.get_data(cache=True)
    if not raw:
        return
    mimetype = request.mimetype or ""
    if (
        mimetype == "application/json"
        or mimetype.endswith("+json")
        or (mimetype in ("", "application/octet-stream", "text/plain") and raw.lstrip()[:1] in (b"{", b"["))
    ):
        inspect_json(raw, problem)
    elif mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            reason = bad_text(key) or bad_text(value)
            if reason:
                raise problem(f"Invalid input: {key}", {key: [reason]})
