"""The ping every service answers; the gateway's /health asks each one with a timeout."""

from nameko.rpc import rpc


class HealthMixin:
    """Adds ``ping`` to a service class that has a ``db`` dependency (or none)."""

    name: str  # the service class's own

    @rpc
    def ping(self) -> dict[str, str]:
        report = {"service": self.name, "status": "ok"}
        database = getattr(self, "db", None)
        if database is not None:
            try:
                database.ping()
                report["database"] = "ok"
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                report["status"] = "degraded"
                report["database"] = f"error: {type(exc).__name__}"
        return report
