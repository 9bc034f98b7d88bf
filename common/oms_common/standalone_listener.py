"""A WSGI app on its own exclusive socket outside nameko (the metrics endpoint), with the same
deadlines and limits as the services' listeners."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import eventlet
from eventlet import wsgi

from .listener import DeadlineServer, listen_exclusively, listener_settings

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class StandaloneListener:
    """A WSGI app on its own exclusive socket with the same deadlines (the metrics endpoint)."""

    def __init__(
        self, host: str | None, port: int, app: "WSGIApplication", config: Mapping[str, Any] | None = None
    ) -> None:
        self.settings = listener_settings(config, "metrics")
        self.sock = listen_exclusively(host, port)
        self.address = self.sock.getsockname()[:2]
        self._server = DeadlineServer(self.sock, app, self.settings)
        self._pool = eventlet.GreenPool(self.settings["HTTP_MAX_CONNECTIONS"])
        self._running = True
        self._thread = eventlet.spawn(self._run)

    def _run(self) -> None:
        while self._running:
            try:
                sock, addr = self.sock.accept()
            except OSError:
                return
            sock.settimeout(self._server.socket_timeout)
            self._pool.spawn(self._serve, sock, addr)

    def _serve(self, sock: Any, addr: tuple[str, int]) -> None:
        try:
            self._server.process_request([addr, sock, wsgi.STATE_IDLE])
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def close(self) -> None:
        self._running = False
        self._thread.kill()
        try:
            self.sock.close()
        except OSError:
            pass
        for thread in list(self._pool.coroutines_running):
            thread.kill()
