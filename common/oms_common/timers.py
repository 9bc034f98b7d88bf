"""A nameko timer whose interval comes from the service's config, not from the code.

``@timer(interval=…)`` is fixed when the class is defined, before any config is read.
"""

from typing import Any

from nameko.timer import Timer


class ConfiguredTimer(Timer):
    """Fires every ``config[config_key]`` seconds (``default`` if unset); 0 or less: never."""

    def __init__(self, config_key: str, default: float, **kwargs: Any) -> None:
        self.config_key = config_key
        self.default = default
        super().__init__(interval=default, **kwargs)

    def setup(self) -> None:
        configured = self.container.config.get(self.config_key)
        self.interval = float(self.default if configured in (None, "") else configured)
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
