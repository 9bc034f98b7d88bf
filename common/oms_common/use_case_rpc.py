"""RPC entrypoints that only hand their call to a use case, declared in one line each."""

import inspect
from collections.abc import Callable
from typing import Any

from nameko.rpc import rpc

from .problems import EXPECTED


def use_case_rpc(use_case: Callable[..., Any]) -> Callable[..., Any]:
    """The entrypoint ``name = use_case_rpc(module.name)`` of a service class is the written-out

        @rpc(expected_exceptions=EXPECTED)
        def name(self, reference, data, actor=None):
            return module.name(self.db, reference, data, actor)

    Its parameters are those of the use case after the first (the service's ``db``), names and
    defaults included, so nameko refuses a call that does not fit them before a worker runs, as it
    does for a written-out entrypoint. An entrypoint that passes anything else is written out."""
    signature = inspect.signature(use_case)
    _source, *parameters = signature.parameters.values()

    def entrypoint(self: Any, *args: Any, **kwargs: Any) -> Any:
        return use_case(self.db, *args, **kwargs)

    this = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    entrypoint.__signature__ = signature.replace(parameters=[this, *parameters])  # type: ignore[attr-defined]
    entrypoint.__name__ = entrypoint.__qualname__ = use_case.__name__
    entrypoint.__doc__ = use_case.__doc__
    return rpc(expected_exceptions=EXPECTED)(entrypoint)
