"""The trivial nameko service of the RPC baseline: what one round trip costs on this machine."""

from nameko.rpc import rpc


class BenchPingService:
    name = "bench_ping"

    @rpc
    def ping(self):
        return 1
