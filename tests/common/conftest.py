"""Fixtures of the shared-machinery tests."""
import time

import eventlet
import pytest


def wait_until(condition, timeout=10.0, interval=0.05, message="condition"):
    """Polls ``condition`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        eventlet.sleep(interval)


@pytest.fixture(name="wait_until")
def wait_until_fixture():
    return wait_until
