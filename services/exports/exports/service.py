"""The exports service: entrypoints and dependencies only."""
from oms_common.health import HealthMixin
from oms_common.logs import CorrelationContext


class ExportsService(HealthMixin):
    name = "exports"

    correlation = CorrelationContext()
