"""RPC between services with a deadline: a peer that does not answer becomes a 503 problem.

Two kinds of 503 are kept apart because they mean different things to a caller who asked for
a change: ``ServiceNotReached`` (the request was never delivered: nothing happened) and
``ServiceTimedOut`` (delivered, no answer in time: the change may still have been applied).
Every caller (services through ``TimedRpcProxy``, the gateway through its ``ServiceCalls``)
waits through ``await_reply``; problems the peer raises (409, 422, …) arrive as the same exceptions.
"""

from collections.abc import Callable
from typing import Any

import eventlet
from nameko.containers import WorkerContext
from nameko.exceptions import UnknownService, deserialize_to_instance
from nameko.rpc import RpcProxy

from .problems import ServiceUnavailable
from .settings import setting


@deserialize_to_instance
class ServiceNotReached(ServiceUnavailable):
    """The call never reached the service (it is not running); nothing was done."""


@deserialize_to_instance
class ServiceTimedOut(ServiceUnavailable):
    """The call was delivered but not answered in time; it may have taken effect."""


def send(service: str, proxy: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """Sends one call without waiting; a service nobody serves was never reached."""
    try:
        return getattr(proxy, method).call_async(*args, **kwargs)
    except UnknownService:
        raise ServiceNotReached(f"The {service} service is not running.") from None


def await_reply(service: str, reply: Any, timeout: float) -> Any:
    """The answer to a call sent with ``call_async``, or a 503 problem after ``timeout`` seconds."""
    try:
        with eventlet.Timeout(timeout):
            return reply.result()
    except eventlet.Timeout:
        raise ServiceTimedOut(f"The {service} service did not answer within {timeout:g} s.") from None
    except UnknownService:
        raise ServiceNotReached(f"The {service} service is not running.") from None


class TimedRpcProxy(RpcProxy):
    """An RpcProxy whose calls give up after a timeout with a 503 problem: ``self.orders("method", ...)``.

    The timeout is the setting ``timeout_setting`` of the calling service (settings.toml).
    """

    def __init__(self, target_service: str, timeout_setting: str, **options: Any) -> None:
        super().__init__(target_service, **options)
        self.timeout_setting = timeout_setting

    def get_dependency(self, worker_ctx: WorkerContext) -> Callable[..., Any]:
        proxy = super().get_dependency(worker_ctx)
        timeout = setting(self.container.config, self.timeout_setting, self.container.service_name)
        service = self.target_service

        def call(method: str, *args: Any, **kwargs: Any) -> Any:
            return await_reply(service, send(service, proxy, method, *args, **kwargs), timeout)

        return call
