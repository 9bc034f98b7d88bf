"""Parsing XML that comes from outside (uploads, bank files) so that it cannot be turned
against the service.

In this order, before anything is written: a size limit; a document with a DOCTYPE or an
ENTITY declaration (where external entities and "billion laughs" are declared) is refused
outright, in UTF-8 and UTF-16; then lxml parses with no DTD loading, no entity
substitution, no network and libxml2's default limits on depth and node size
(``huge_tree=False``); any DTD or entity reference that still shows up is refused.
Every refusal is a ``ValidationFailed`` (422) whose ``errors`` name the ``document``.
"""

import re
from typing import NoReturn

from lxml import etree

from .problems import ValidationFailed

DTD_MESSAGE = (
    "A DTD (DOCTYPE or ENTITY declaration) is not allowed: external entities and entity expansion are refused."
)
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DTD_16 = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY", "<!doctype", "<!entity")
    for encoding in ("utf-16-le", "utf-16-be")
)


def parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        remove_pis=True,
        remove_comments=True,
        collect_ids=False,
    )


def _refuse(detail: str, reason: str, field: str = "document") -> NoReturn:
    raise ValidationFailed(detail, {field: [reason]})


def parse_untrusted(data: object, max_bytes: int, field: str = "document") -> etree._Element:
    """The root element of ``data`` (bytes), or ValidationFailed naming what is wrong."""
    if not isinstance(data, (bytes, bytearray)):
        _refuse("The document must be bytes.", "Expected the raw XML bytes.", field)
    if len(data) == 0:
        _refuse("The document is empty.", "Empty document.", field)
    if len(data) > max_bytes:
        _refuse(
            f"The document is larger than {max_bytes} bytes.", f"{len(data)} bytes; the limit is {max_bytes}.", field
        )
    data = bytes(data)
    if _DTD.search(data) or any(marker in data for marker in _DTD_16):
        _refuse("The document declares a DTD or entities.", DTD_MESSAGE, field)
    try:
        root = etree.fromstring(data, parser())
    except etree.XMLSyntaxError as error:
        _refuse("The document is not well-formed XML.", f"Line {error.lineno}: {error.msg}", field)
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        _refuse("The document declares a DTD or entities.", DTD_MESSAGE, field)
    for _ in root.iter(etree.Entity):
        _refuse("The document uses entity references.", DTD_MESSAGE, field)
    return root
