"""A nameko timer whose interval comes from the service's config, not from the code.

``@timer(interval=…)`` is fixed when the class is defined, before any config is read.
"""

from typing import Any

from nameko.timer import Timer

from .settings import setting


class ConfiguredTimer(Timer):
    """Fires every ``config_key`` seconds (a setting of settings.toml); 0: never."""

    def __init__(self, config_key: str, **kwargs: Any) -> None:
        self.config_key = config_key
        super().__init__(interval=0, **kwargs)

    def setup(self) -> None:
        self.interval = setting(self.container.config, self.config_key, self.container.service_name)
        super().setup()

    def start(self) -> None:
        if self.interval > 0:
            super().start()

    def stop(self) -> None:
        if self.gt is not None:
            super().stop()

    def kill(self) -> None:
        if self.gt is not None:
            super().kill()


configured_timer = ConfiguredTimer.decorator
