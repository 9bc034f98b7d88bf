"""The notifications service: entrypoints and dependencies only."""
from oms_common.health import HealthMixin
from oms_common.logs import CorrelationContext


class NotificationsService(HealthMixin):
    name = "notifications"

    correlation = CorrelationContext()
