"""RPC from the gateway with a deadline: a dead or stuck service becomes a 503, never a hung request."""
import logging

import eventlet
from nameko.exceptions import UnknownService

from oms_common.problems import Problem, ServiceUnavailable

log = logging.getLogger(__name__)


class ServiceCalls:
    def __init__(self, proxies, timeout):
        self._proxies = proxies
        self.timeout = timeout

    def async_(self, service, method, *args, **kwargs):
        try:
            return getattr(self._proxies[service], method).call_async(*args, **kwargs)
        except UnknownService:
            raise ServiceUnavailable(f"The {service} service is not running.") from None

    def result(self, service, reply, timeout=None):
        timeout = timeout or self.timeout
        try:
            with eventlet.Timeout(timeout):
                return reply.result()
        except eventlet.Timeout:
            raise ServiceUnavailable(f"The {service} service did not answer within {timeout:g} s.") from None
        except UnknownService:
            raise ServiceUnavailable(f"The {service} service is not running.") from None

    def __call__(self, service, method, *args, **kwargs):
        return self.result(service, self.async_(service, method, *args, **kwargs))

    def optional(self, service, reply, unavailable, timeout=None):
        """A secondary part of a composed answer: None (and noted) if its service fails."""
        try:
            return self.result(service, reply, timeout)
        except Problem:
            return None
        except Exception as exc:  # noqa: BLE001 - a secondary part must not fail the whole answer
            log.warning("%s could not answer a secondary call: %r", service, exc)
            unavailable.append(service)
            return None
