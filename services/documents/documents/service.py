"""The documents service: entrypoints and dependencies only; the work is in profile/issuing."""
from nameko.dependency_providers import Config
from nameko.rpc import rpc

from oms_common.health import HealthMixin
from oms_common.logs import CorrelationContext
from oms_common.metrics import Metrics
from oms_common.problems import EXPECTED
from oms_common.providers import Database

from . import profile
from .models import infrastructure


class DocumentsService(HealthMixin):
    name = "documents"

    db = Database(infrastructure)
    metrics = Metrics()
    correlation = CorrelationContext()
    config = Config()

    def _logo_max_bytes(self):
        return int((self.config.get("DOCUMENTS") or {}).get("LOGO_MAX_BYTES") or profile.DEFAULT_LOGO_MAX_BYTES)

    # the shop profile (admin only at the gateway)
    @rpc(expected_exceptions=EXPECTED)
    def get_shop_profile(self):
        return profile.get_profile(self.db)

    @rpc(expected_exceptions=EXPECTED)
    def put_shop_profile(self, data, actor=None):
        return profile.put_profile(self.db, data, actor, self._logo_max_bytes())
