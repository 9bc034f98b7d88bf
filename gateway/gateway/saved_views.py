"""Saved order views: a user's named order lists (filters, sort, columns), one of them the default.

The gateway keeps them (they are a matter of its users, not of any order). Filters and sort are
the orders list's own parameters, checked by the orders list's schema when saved, so a saved view
never asks the list for something it refuses. Admins may share a view with the team: everyone
sees and applies it; only its owner changes or deletes it.
"""

from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from oms_common.db import utcnow
from oms_common.fields import StrictSchema, text
from oms_common.problems import Conflict, Forbidden, NotFound, ValidationFailed, from_marshmallow
from oms_contracts.orders import ListQuerySchema

from .models import SavedOrderView, User
from .ui.order_list import COLUMN_KEYS, DEFAULT_COLUMNS, SORTS, list_keys

MAX_VIEWS_PER_USER = 100
NOT_FILTERS = ("sort", "page")  # the sort is a field of its own; a view always opens on page 1


def filter_keys():
    return [key for key in list_keys() if key not in NOT_FILTERS]


class ViewSchema(StrictSchema):
    name = text(80)
    filters = fields.Dict(keys=fields.String(), load_default=dict)
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(sorted(SORTS)))
    columns = fields.List(
        fields.String(validate=validate.OneOf(COLUMN_KEYS)),
        load_default=lambda: list(DEFAULT_COLUMNS),
        validate=validate.Length(min=1, max=len(COLUMN_KEYS)),
    )
    is_default = fields.Boolean(load_default=False)
    shared = fields.Boolean(load_default=False)

    @validates_schema
    def _filters_the_list_takes(self, data, partial=None, **kwargs):
        check_filters(data.get("filters"))


def check_filters(filters):
    """Every filter a parameter of the orders list, with a value it takes; errors name ``filters.<key>``."""
    if not filters:
        return
    allowed = filter_keys()
    errors = {}
    for key, value in filters.items():
        if key not in allowed:
            errors[f"filters.{key}"] = [f"Not a filter of the order list; one of: {', '.join(allowed)}."]
        elif not (isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))):
            errors[f"filters.{key}"] = ["A text or a list of texts."]
    if not errors:
        try:
            ListQuerySchema().load(dict(filters))
        except ValidationError as error:
            errors.update(
                {
                    f"filters.{key}": messages if isinstance(messages, list) else [str(messages)]
                    for key, messages in error.messages.items()
                }
            )
    if errors:
        raise ValidationError(errors)


def _load(data, partial=False):
    try:
        return ViewSchema(partial=partial).load(data if isinstance(data, dict) else {})
    except ValidationError as error:
        problem = from_marshmallow(error)
        flat = {}
        for key, messages in problem.errors.items():  # nested filter errors arrive as "_schema.filters.x"
            flat[key.replace("_schema.", "")] = messages
        raise ValidationFailed(f"Invalid input: {', '.join(sorted(flat))}", flat) from None


def dump(view, owner_name, user_id):
    return {
        "id": view.id,
        "name": view.name,
        "filters": view.filters,
        "sort": view.sort,
        "columns": view.columns,
        "is_default": view.is_default if view.owner_id == user_id else False,
        "shared": view.shared,
        "owner": owner_name,
        "mine": view.owner_id == user_id,
        "created_at": view.created_at.isoformat(),
        "updated_at": view.updated_at.isoformat(),
    }


def _visible(user_id):
    return or_(SavedOrderView.owner_id == user_id, SavedOrderView.shared.is_(True))


def list_views(source, user_id):
    """The user's own views, then those shared by others, each by name."""
    with source.read_session() as session:
        rows = session.execute(
            select(SavedOrderView, User.username)
            .join(User, User.id == SavedOrderView.owner_id)
            .where(_visible(user_id))
            .order_by((SavedOrderView.owner_id != user_id), SavedOrderView.name, SavedOrderView.id)
        ).all()
        return [dump(view, owner, user_id) for view, owner in rows]


def default_view(source, user_id):
    with source.read_session() as session:
        view = session.execute(
            select(SavedOrderView).where(SavedOrderView.owner_id == user_id, SavedOrderView.is_default.is_(True))
        ).scalar_one_or_none()
        return dump(view, None, user_id) if view else None


def _check_sharing(role, payload):
    if payload.get("shared") and role != "admin":
        message = "Only admins share views with the team."
        raise Forbidden(message, {"shared": [message]})


def _clear_default(session, user_id, keep_id=None):
    condition = [SavedOrderView.owner_id == user_id, SavedOrderView.is_default.is_(True)]
    if keep_id is not None:
        condition.append(SavedOrderView.id != keep_id)
    session.execute(update(SavedOrderView).where(*condition).values(is_default=False))


def _commit(session, name):
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        message = f"You already have a view named “{name}”."
        raise Conflict(message, {"name": [message]}) from None


def create_view(source, user_id, role, data):
    payload = _load(data)
    _check_sharing(role, payload)
    with source.read_session() as session:
        # the user's row lock serialises this user's saves: one default, a bounded count
        owner = session.execute(select(User).where(User.id == user_id).with_for_update()).scalar_one()
        count = len(session.execute(select(SavedOrderView.id).where(SavedOrderView.owner_id == user_id)).all())
        if count >= MAX_VIEWS_PER_USER:
            raise Conflict(f"At most {MAX_VIEWS_PER_USER} views per user; delete one first.")
        if payload["is_default"]:
            _clear_default(session, user_id)
        now = utcnow()
        view = SavedOrderView(owner_id=user_id, created_at=now, updated_at=now, **payload)
        session.add(view)
        _commit(session, payload["name"])
        return dump(view, owner.username, user_id)


def _own_view(session, user_id, view_id):
    view = session.execute(
        select(SavedOrderView).where(SavedOrderView.id == view_id, _visible(user_id)).with_for_update()
    ).scalar_one_or_none()
    if view is None:
        raise NotFound(f"No view {view_id}.")
    if view.owner_id != user_id:
        raise Forbidden("Only the owner of a shared view changes or deletes it.")
    return view


def update_view(source, user_id, role, view_id, data):
    payload = _load(data, partial=True)
    _check_sharing(role, payload)
    if not payload:
        raise ValidationFailed("Nothing to change.", {"_schema": ["Send at least one field."]})
    with source.read_session() as session:
        owner = session.execute(select(User).where(User.id == user_id).with_for_update()).scalar_one()
        view = _own_view(session, user_id, view_id)
        if payload.get("is_default"):
            _clear_default(session, user_id, keep_id=view.id)
        for key, value in payload.items():
            setattr(view, key, value)
        view.updated_at = utcnow()
        _commit(session, view.name)
        return dump(view, owner.username, user_id)


def delete_view(source, user_id, view_id):
    with source.read_session() as session:
        view = _own_view(session, user_id, view_id)
        session.delete(view)
        session.commit()
