"""nameko glue of the exports service: its settings."""

from nameko.extensions import DependencyProvider

from .settings import ExportSettings


class Settings(DependencyProvider):
    def setup(self):
        self.settings = ExportSettings.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings
