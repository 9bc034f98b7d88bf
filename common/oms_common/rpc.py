"""RPC between services with a deadline: a peer that does not answer becomes a 503 problem."""
import eventlet
from nameko.rpc import RpcProxy

from .problems import ServiceUnavailable


class TimedRpcProxy(RpcProxy):
    """An RpcProxy whose calls give up after a timeout with a 503 problem.

    The timeout is read from the container's config (``timeout_setting``), else ``timeout``.
    Problems the peer raises (409, 422, …) arrive as the same exceptions.
    """

    def __init__(self, target_service, timeout=10, timeout_setting="ORDERS_RPC_TIMEOUT", **options):
        super().__init__(target_service, **options)
        self.timeout = timeout
        self.timeout_setting = timeout_setting

    def get_dependency(self, worker_ctx):
        proxy = super().get_dependency(worker_ctx)
        timeout = float(self.container.config.get(self.timeout_setting) or self.timeout)
        service = self.target_service

        def call(method, *args, **kwargs):
            reply = getattr(proxy, method).call_async(*args, **kwargs)
            try:
                with eventlet.Timeout(timeout):
                    return reply.result()
            except eventlet.Timeout:
                raise ServiceUnavailable(f"The {service} service did not answer within {timeout:g} s.") from None

        return call
