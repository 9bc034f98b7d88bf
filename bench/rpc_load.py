"""RPC load from greenthreads, each with its own ClusterRpcProxy (and so its own reply queue).

Run by bench/list_search.py as a subprocess, because a nameko client wants an eventlet
monkey-patched process and the HTTP and SQL load generators do not:

    python bench/rpc_load.py --amqp-uri URI --service bench_ping --method ping \
        --args-file calls.json --concurrency 16 --requests 3000 --seconds 20 --warmup 200

``--args-file`` holds a JSON list of positional-argument lists, used in turn. Prints one JSON
object: latencies in seconds (measured calls only), wall time of the measured part, errors.
"""

import eventlet

eventlet.monkey_patch()  # noqa: E402 - before anything imports sockets

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--amqp-uri", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--method", required=True)
    parser.add_argument("--args-file")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--think-ms", type=float, default=0.0, help="mean pause between a client's calls")
    options = parser.parse_args()
    calls = [[]]
    if options.args_file:
        with open(options.args_file) as handle:
            calls = json.load(handle) or [[]]
    config = {"AMQP_URI": options.amqp_uri}
    proxies = [ClusterRpcProxy(config, timeout=options.timeout) for _ in range(options.concurrency)]
    clients = [proxy.start() for proxy in proxies]
    state = {"issued": 0, "measured_from": None, "deadline": None}
    latencies, errors = [], []
    pause = random.Random(1)

    def next_call():
        number = state["issued"]
        if number >= options.warmup + options.requests:
            return None
        if number >= options.warmup:
            if state["measured_from"] is None:
                state["measured_from"] = time.perf_counter()
                state["deadline"] = state["measured_from"] + options.seconds
            elif time.perf_counter() > state["deadline"]:
                return None
        state["issued"] += 1
        return number

    def client(index):
        method = getattr(getattr(clients[index], options.service), options.method)
        while True:
            number = next_call()
            if number is None:
                return
            args = calls[number % len(calls)]
            began = time.perf_counter()
            try:
                method(*args)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(repr(exc)[:300])
            if number >= options.warmup:
                latencies.append(time.perf_counter() - began)
            if options.think_ms:
                eventlet.sleep(pause.expovariate(1000.0 / options.think_ms))

    pool = eventlet.GreenPool(options.concurrency)
    for index in range(options.concurrency):
        pool.spawn(client, index)
    pool.waitall()
    finished = time.perf_counter()
    for proxy in proxies:
        proxy.stop()
    wall = finished - (state["measured_from"] or finished)
    json.dump({"latencies": latencies, "wall": wall, "errors": len(errors), "error_sample": errors[:3]}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
