"""Use cases of the shop profile: read it, replace it (validated whole, or nothing stored)."""

import base64
import hashlib

from marshmallow import ValidationError

from oms_common.db import utcnow
from oms_common.problems import Conflict, NotFound, ValidationFailed, load
from oms_contracts.documents import LogoSchema, ShopProfileSchema
from oms_contracts.events import stamp
from oms_contracts.values import LANGUAGES

from . import domain
from .models import ShopProfile

PROFILE_ID = 1
DEFAULT_LOGO_MAX_BYTES = 256 * 1024


def _dump(row, with_logo=True):
    shown = dict(row.data)
    if with_logo and row.logo is not None and shown.get("logo"):
        shown["logo"] = {**shown["logo"], "data": base64.b64encode(row.logo).decode("ascii")}
    shown.update(version=row.version, updated_at=row.updated_at.isoformat(), updated_by=row.updated_by)
    return shown


def get_profile(source):
    with source.read_session() as session:
        row = session.get(ShopProfile, PROFILE_ID)
        if row is None:
            raise NotFound("No shop profile has been set yet.")
        return _dump(row)


def current_profile(session):
    """The profile as documents use it (None when none is set), logo bytes included."""
    row = session.get(ShopProfile, PROFILE_ID)
    if row is None:
        return None
    return {**row.data, "logo_bytes": row.logo}


def _checked(payload, logo_max_bytes):
    """The profile as stored, and the logo's bytes; every refusal names its field."""
    errors = {}
    checked = {key: payload[key] for key in ("legal_name", "address", "contact", "payment_term_days", "footer")}
    checked["footer"] = {language: checked["footer"].get(language, "") for language in LANGUAGES}
    for field, check in (
        ("vat_number", domain.vat_number),
        ("iban", lambda v: domain.bank_account(v, "iban", qr=False)),
        ("qr_iban", lambda v: domain.bank_account(v, "qr_iban", qr=True)),
    ):
        value = payload.get(field)
        try:
            checked[field] = check(value) if value else None
        except domain.Refused as refused:
            errors[refused.field] = [refused.message]
    logo = None
    if payload.get("logo"):
        try:
            logo = LogoSchema().decoded(payload["logo"]["data"])
            content_type, width, height = domain.logo_facts(logo, logo_max_bytes)
            checked["logo"] = {
                "content_type": content_type,
                "width": width,
                "height": height,
                "size": len(logo),
                "sha256": hashlib.sha256(logo).hexdigest(),
            }
        except ValidationError:
            errors["logo.data"] = ["Not valid base64."]
        except domain.Refused as refused:
            errors[refused.field] = [refused.message]
    else:
        checked["logo"] = None
    if errors:
        raise ValidationFailed(f"Invalid input: {', '.join(sorted(errors))}", errors)
    return checked, logo


def put_profile(source, data, actor, logo_max_bytes=DEFAULT_LOGO_MAX_BYTES):
    payload = load(ShopProfileSchema(), data)
    checked, logo = _checked(payload, logo_max_bytes)
    with source.unit_of_work() as uow:
        row = uow.session.get(ShopProfile, PROFILE_ID, with_for_update=True)
        expected = payload.get("version")
        if expected is not None and (row.version if row else 0) != expected:
            raise Conflict(
                "The shop profile was changed meanwhile; load it again.",
                {"version": [f"Current version is {row.version if row else 0}."]},
            )
        who = (actor or {}).get("name") or "system"
        if row is None:
            row = ShopProfile(id=PROFILE_ID, version=0)
            uow.session.add(row)
        row.data, row.logo = checked, logo
        row.version += 1
        row.updated_at, row.updated_by = utcnow(), who
        uow.emit("shop_profile_changed", stamp("shop_profile_changed", {"version": row.version, "actor": actor}))
        uow.commit()
        return _dump(row)
