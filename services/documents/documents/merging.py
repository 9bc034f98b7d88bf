"""The documents of several orders as one PDF, for staff who print or file them together.

The stored bytes of each document are put one after the other with pypdf, never rendered
again: every page is the page the customer got. Which documents, in which order and how many
bytes at most is decided by ``merge_rules``; their sizes are read first, their bytes only when
the file will be made.
"""

import base64
import io

import eventlet
import pypdf
from sqlalchemy import func, select

from oms_common.problems import NotFound, ValidationFailed, load
from oms_contracts.documents import MergedDocumentsSchema

from . import merge_rules
from .domain import Refused
from .models import Document


def merged_documents(source, references, kinds=None):
    """``content`` (the PDF, base64), ``missing`` (the references without documents of the kinds
    asked for) and ``count`` (how many documents the file holds)."""
    asked = load(MergedDocumentsSchema(), {"references": references, "kinds": kinds})
    with source.read_session() as session:
        stored = [
            merge_rules.StoredDocument(row.id, row.order_reference, row.kind, row.number, row.size)
            for row in session.execute(
                select(
                    Document.id,
                    Document.order_reference,
                    Document.kind,
                    Document.number,
                    func.octet_length(Document.content).label("size"),
                ).where(Document.order_reference.in_(asked["references"]))
            )
        ]
        try:
            chosen = merge_rules.plan(asked["references"], stored, asked["kinds"])
        except merge_rules.NothingToMerge as nothing:
            raise NotFound(nothing.message, {"references": [nothing.message]}) from None
        except Refused as refused:
            raise ValidationFailed(refused.message, {refused.field: [refused.message]}) from None
        ids = [document.id for document in chosen.documents]
        content = dict(session.execute(select(Document.id, Document.content).where(Document.id.in_(ids))).all())
    merged = concatenate((document.bookmark, content[document.id]) for document in chosen.documents)
    return {"content": base64.b64encode(merged).decode("ascii"), "missing": chosen.missing, "count": len(ids)}


def concatenate(documents):
    """The pages of each ``(bookmark, pdf)``, one document after the other, as one PDF whose
    outline has a bookmark at the first page of each."""
    writer = pypdf.PdfWriter()
    for bookmark, pdf in documents:
        writer.append(pypdf.PdfReader(io.BytesIO(pdf)), outline_item=bookmark, import_outline=False)
        eventlet.sleep(0)  # some milliseconds each: the worker's neighbours get their turn in between
    merged = io.BytesIO()
    writer.write(merged)
    return merged.getvalue()
