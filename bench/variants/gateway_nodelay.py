"""The gateway with TCP_NODELAY on its HTTP sockets — a bench-only variant measuring a proposed change.

    python bench/list_search.py --gateway-variant nodelay

eventlet's WSGI server writes the response head and a body larger than its write buffer
(~8 KB: a page of 50 orders is ~25 KB) in two send() calls. With Nagle's algorithm on, the
second waits for the client's ACK of the first, and clients delay that ACK (40 ms on Linux):
every large response then takes ~40 ms longer than it needs. Neither nameko nor eventlet
sets TCP_NODELAY; this variant sets it on the listening socket (accepted sockets inherit it
on Linux) and on every accepted socket.
"""

import socket

import eventlet

_listen = eventlet.listen


class _NoDelaySocket:
    def __init__(self, sock):
        self._sock = sock

    def accept(self):
        client, address = self._sock.accept()
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return client, address

    def __getattr__(self, name):
        return getattr(self._sock, name)


def listen(*args, **kwargs):
    sock = _listen(*args, **kwargs)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return _NoDelaySocket(sock)


eventlet.listen = listen

from gateway.service import GatewayService  # noqa: E402,F401
