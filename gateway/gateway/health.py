"""/health: every service pinged over RPC at once, each with a short deadline."""

from oms_common.problems import ServiceUnavailable


def health_report(calls, services, database, timeout=3.0):
    replies = {}
    report = {"status": "ok", "services": {}}
    for service in services:
        try:
            replies[service] = calls.async_(service, "ping")
        except ServiceUnavailable as problem:
            report["services"][service] = {"status": "down", "detail": problem.detail}
    for service, reply in replies.items():
        try:
            answer = calls.result(service, reply, timeout=timeout)
            report["services"][service] = {"status": answer.get("status", "ok"), **answer}
        except ServiceUnavailable as problem:
            report["services"][service] = {"status": "down", "detail": problem.detail}
        except Exception as exc:  # noqa: BLE001 - any failure of a ping is "down"
            report["services"][service] = {"status": "down", "detail": type(exc).__name__}
    try:
        database.ping()
        report["services"]["gateway"] = {"status": "ok", "database": "ok"}
    except Exception as exc:  # noqa: BLE001
        report["services"]["gateway"] = {"status": "down", "detail": type(exc).__name__}
    down = [name for name, state in report["services"].items() if state["status"] != "ok"]
    if down:
        report["status"] = "unavailable"
        report["down"] = sorted(down)
    return (503 if down else 200), report
