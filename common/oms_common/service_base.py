"""The dependencies every service class declares, declared once."""

from .health import HealthMixin
from .logs import CorrelationContext
from .metrics import Metrics
from .providers import Settings


class OmsService(HealthMixin):
    """``ping``, the metrics of every entrypoint, the correlation id of every worker's logs and the
    checked settings. A service class adds its ``name``, its ``db = Database(infrastructure)`` and
    what else it needs; it may replace ``settings`` or ``metrics`` with its own."""

    metrics = Metrics()
    correlation = CorrelationContext()
    settings = Settings()
