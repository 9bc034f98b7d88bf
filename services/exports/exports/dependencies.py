"""nameko glue of the exports service: its settings and a timer whose interval is configurable."""
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from .settings import ExportSettings


class Settings(DependencyProvider):
    def setup(self):
        self.settings = ExportSettings.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings


class ConfiguredTimer(Timer):
    """``@timer`` whose interval comes from the config (``config_key``), not the source."""

    def __init__(self, config_key, default, **kwargs):
        self.config_key = config_key
        super().__init__(interval=default, **kwargs)

    def setup(self):
        configured = self.container.config.get(self.config_key)
        if configured not in (None, ""):
            self.interval = float(configured)
        super().setup()


configured_timer = ConfiguredTimer.decorator
