"""RPC from the gateway with a deadline: a dead or stuck service becomes a 503, never a hung request
(the waiting itself is ``oms_common.rpc``'s, shared with every service)."""

import logging
import time

from oms_common.problems import NotFound, Problem, ServiceUnavailable
from oms_common.rpc import ServiceNotReached, ServiceTimedOut, await_reply, send

__all__ = ["ServiceCalls", "ServiceNotReached", "ServiceTimedOut", "SecondaryCalls"]

log = logging.getLogger(__name__)


class ServiceCalls:
    def __init__(self, proxies, timeout, secondary_timeout=1.0):
        self._proxies = proxies
        self.timeout = timeout
        # how long a composed answer waits for its secondary parts, all together
        self.secondary_timeout = secondary_timeout

    def async_(self, service, method, *args, **kwargs):
        return send(service, self._proxies[service], method, *args, **kwargs)

    def result(self, service, reply, timeout=None):
        return await_reply(service, reply, timeout or self.timeout)

    def __call__(self, service, method, *args, **kwargs):
        return self.result(service, self.async_(service, method, *args, **kwargs))

    def secondary(self):
        """Secondary parts of one composed answer, sharing one short deadline."""
        return SecondaryCalls(self, self.secondary_timeout)


class SecondaryCalls:
    """Parts an answer can do without: each is asked at once, waited for until one shared
    deadline, and named in ``unavailable`` when its service is down, slow or failing."""

    def __init__(self, calls, timeout):
        self._calls = calls
        self._timeout = timeout
        self._deadline = None
        self.unavailable = []

    def ask(self, service, method, *args):
        if self._deadline is None:
            self._deadline = time.monotonic() + self._timeout
        try:
            return service, self._calls.async_(service, method, *args)
        except ServiceUnavailable:
            self._note(service)
            return service, None

    def answer(self, asked, missing=None):
        """The part's answer; ``missing`` when its service has none (404) or could not answer."""
        service, reply = asked
        if reply is None:
            return missing
        remaining = max(0.05, self._deadline - time.monotonic())
        try:
            return self._calls.result(service, reply, timeout=remaining)
        except NotFound:
            return missing  # the service answered: there is no such part (e.g. no payment yet)
        except Problem as problem:
            log.warning("%s could not answer a secondary call: %s", service, problem.detail)
        except Exception as exc:  # noqa: BLE001 - a secondary part must not fail the whole answer
            log.warning("%s could not answer a secondary call: %r", service, exc)
        self._note(service)
        return missing

    def _note(self, service):
        if service not in self.unavailable:
            self.unavailable.append(service)
