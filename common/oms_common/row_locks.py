"""The row an operator action names, locked for the change it makes, or the 404 when it does not exist."""

from typing import Any

from sqlalchemy import select

from .problems import NotFound


def lock_one_or_404(session: Any, model: Any, condition: Any, missing: str) -> Any:
    """The one row of ``model`` meeting ``condition``, locked ``FOR UPDATE`` until the transaction
    ends; ``NotFound(missing)`` when there is none."""
    row = session.execute(select(model).where(condition).with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFound(missing)
    return row
