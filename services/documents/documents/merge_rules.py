"""What goes into one PDF of several orders' documents, in plain Python (no nameko, no SQLAlchemy,
no PDF library): the orders in the order they were asked for, each one's documents oldest first,
only the kinds asked for, and at most so many bytes."""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from .domain import Refused

# the stored bytes one merged file may take: some 700 documents, a file a mail program or a
# browser still opens, and an RPC answer that stays well within what the broker carries
MAX_MERGED_BYTES = 24 * 1024 * 1024


@dataclass(frozen=True)
class StoredDocument:
    """An issued document as the merge sees it before reading its bytes."""

    id: int
    order_reference: str
    kind: str
    number: str
    size: int

    @property
    def bookmark(self) -> str:
        # the file's outline names each document by its order and number, in no one language
        return f"{self.order_reference} · {self.number}"


@dataclass(frozen=True)
class MergePlan:
    documents: list[StoredDocument]  # in the order they go into the file
    missing: list[str]  # the references asked for that have no document (of the kinds asked for)


class NothingToMerge(Exception):
    """None of the orders asked for has a document (of the kinds asked for)."""

    def __init__(self, references: Sequence[str], kinds: Collection[str] | None) -> None:
        of_kinds = f" of the kinds {', '.join(kinds)}" if kinds else ""
        super().__init__(f"None of the {len(references)} orders has a document{of_kinds}.")
        self.message = str(self)


def plan(
    references: Sequence[str], stored: Iterable[StoredDocument], kinds: Collection[str] | None = None
) -> MergePlan:
    """The documents of ``references`` in the order asked for (each reference once, where it came
    first), each order's oldest first; refused when they take more than ``MAX_MERGED_BYTES``."""
    asked = list(dict.fromkeys(references))
    by_reference: dict[str, list[StoredDocument]] = {reference: [] for reference in asked}
    for document in stored:
        if document.order_reference in by_reference and (not kinds or document.kind in kinds):
            by_reference[document.order_reference].append(document)
    documents = [document for reference in asked for document in sorted(by_reference[reference], key=lambda d: d.id)]
    if not documents:
        raise NothingToMerge(asked, kinds)
    size = sum(document.size for document in documents)
    if size > MAX_MERGED_BYTES:
        raise Refused(
            "references",
            f"The {len(documents)} documents of these orders take {size / 1048576:.1f} MB; one file takes at "
            f"most {MAX_MERGED_BYTES // 1048576} MB. Choose fewer orders.",
        )
    return MergePlan(documents, [reference for reference in asked if not by_reference[reference]])
