"""The payments service: entrypoints and dependencies only."""
from oms_common.health import HealthMixin
from oms_common.logs import CorrelationContext


class PaymentsService(HealthMixin):
    name = "payments"

    correlation = CorrelationContext()
