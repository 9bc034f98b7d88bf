"""The suite's service processes: each service's folder and nameko service class, and the command
that runs one. tools/run.py starts one process of each, the fault suite (tests/faults) two."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# name, directory, nameko service path
SERVICES = [
    ("orders", REPO / "services" / "orders", "orders.service:OrdersService"),
    ("payments", REPO / "services" / "payments", "payments.service:PaymentsService"),
    ("notifications", REPO / "services" / "notifications", "notifications.service:NotificationsService"),
    ("exports", REPO / "services" / "exports", "exports.service:ExportsService"),
    ("documents", REPO / "services" / "documents", "documents.service:DocumentsService"),
    ("gateway", REPO / "gateway", "gateway.service:GatewayService"),
]


def nameko_run(directory, path):
    """``nameko run`` of one service with its own config.yml (run in ``directory``)."""
    return [sys.executable, "-m", "nameko", "run", "--config", str(directory / "config.yml"), path]
