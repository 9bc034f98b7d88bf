"""``python -m oms_common.healthcheck <service>``: exit 0 when the service answers its ``ping``
RPC in time with status ``ok``, 1 otherwise (one line on stderr says why).

For container probes of services without an HTTP API (orders, notifications): it proves that
RabbitMQ is reachable and that a replica of the service consumes its RPC queue and reaches its
database. (That replica is not necessarily the probing container — for "is this process alive"
use the HTTP probe on the process's own metrics port, 9100, which every service serves.)
Settings: OMS_AMQP_URI; --timeout (default 5 s).
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # noqa: E402

import argparse  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from .settings import setting  # noqa: E402


def check(service: str, amqp_uri: str, timeout: float) -> tuple[bool, str]:
    """(ok, message)."""
    from nameko.standalone.rpc import ClusterRpcProxy

    try:
        with eventlet.Timeout(timeout + 2):
            with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout) as cluster:
                report = getattr(cluster, service).ping()
    except (Exception, eventlet.Timeout) as error:  # noqa: BLE001 - any failure is "not healthy"
        return False, f"{service}: no answer to ping ({type(error).__name__}: {error})"
    if not isinstance(report, dict) or report.get("status") != "ok":
        return False, f"{service}: {report!r}"
    return True, f"{service}: ok"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m oms_common.healthcheck",
        description="Exit 0 when the service answers its ping RPC with status ok.",
    )
    parser.add_argument("service", choices=["orders", "payments", "notifications", "exports", "documents", "gateway"])
    parser.add_argument("--amqp-uri", default=setting(None, "AMQP_URI", "gateway"))
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    ok, message = check(args.service, args.amqp_uri, args.timeout)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
