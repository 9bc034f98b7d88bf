"""Which peer a request really came from: ``X-Forwarded-*`` believed only from trusted proxies."""

import ipaddress
from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | None) -> tuple[Network, ...]:
    networks: list[Network] = []
    for item in str(value or "").split(","):
        item = item.strip()
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def apply_proxy_trust(environ: MutableMapping[str, Any], networks: Sequence[Network]) -> None:
    """REMOTE_ADDR / url scheme from X-Forwarded-* when the peer is a trusted proxy; else drop them."""
    peer = environ.get("REMOTE_ADDR", "")
    if networks and _trusted(peer, networks):
        chain = [hop.strip() for hop in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        client = peer
        # the right-most address a trusted proxy did not add is the client
        for hop in reversed(chain):
            client = hop
            if not _trusted(hop, networks):
                break
        try:
            environ["REMOTE_ADDR"] = str(ipaddress.ip_address(client))
        except ValueError:
            pass
        proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            environ["wsgi.url_scheme"] = proto
    else:
        for key in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_FORWARDED"):
            environ.pop(key, None)
