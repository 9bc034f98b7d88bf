"""nameko glue of the exports service: its settings."""

from nameko.extensions import DependencyProvider

from oms_common.settings import check_settings

from .settings import ExportSettings


class Settings(DependencyProvider):
    def setup(self):
        check_settings(self.container.config, "exports")
        self.settings = ExportSettings.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings
