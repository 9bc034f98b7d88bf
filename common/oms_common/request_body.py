"""A request's body read whole within a deadline and a size bound, in the connection's green thread:
a slow or oversized body costs a socket, never a worker."""

from collections.abc import Mapping
from typing import Any

import eventlet
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request

from .problems import BadRequest, Problem


class PayloadTooLarge(Problem):
    status = 413
    title = "Payload too large"


class RequestTimeout(Problem):
    status = 408
    title = "Request timeout"


def close_after(environ: Mapping[str, Any]) -> None:
    """Makes the connection close after this answer (its request body was not read to its end)."""
    connection = environ.get("oms.connection")
    if connection is not None:
        connection.close_connection = 1


def read_body(request: Request, max_bytes: int, seconds: float, too_large: type[Problem] = PayloadTooLarge) -> None:
    """Reads the whole body into the request (``request.get_data()`` later returns it) within ``seconds``."""
    length = request.content_length
    if length is not None and length > max_bytes:
        close_after(request.environ)
        raise too_large(f"The body is larger than {max_bytes} bytes.", {"body": ["Too large."]})
    if not length:
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            close_after(request.environ)  # werkzeug reads no chunked body: never wait for its rest
        request.get_data(cache=True)
        return
    request.max_content_length = max_bytes
    timeout = eventlet.Timeout(seconds)
    try:
        request.get_data(cache=True)
    except eventlet.Timeout as expired:
        if expired is not timeout:
            raise
        close_after(request.environ)
        raise RequestTimeout(f"The body did not arrive within {seconds:g} s.", {"body": ["Sent too slowly."]}) from None
    except RequestEntityTooLarge:
        close_after(request.environ)
        raise too_large(f"The body is larger than {max_bytes} bytes.", {"body": ["Too large."]}) from None
    except (OSError, ValueError):
        close_after(request.environ)
        raise BadRequest("The body could not be read.", {"body": ["Incomplete."]}) from None
    finally:
        timeout.cancel()
