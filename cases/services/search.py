"""The search document of a case: what ``?search=`` compares a member with.

One line per member, holding the words of their names and their document
number, written without accents, in lower case, separated by spaces:

    maria jose gonzalez perez v12345678 12345678
    luis rojas silva

A case keeps its document in ``Case.search_document`` and PostgreSQL indexes
every start of every word in it (GIN over ``case_search_prefixes``, migration
0004), so a search intersects the posting lists of all its words in one index
and reads only the cases holding every one of them. The line of the member that matches every word is then
checked on those few rows (``cases.api.case_filters``).

A new case gets its document from the family in hand, in the statement that
gives it its reference (``case_create``); whatever later changes a membership
or a person's names or document calls ``case_search_refresh`` in the same
transaction.
"""
import unicodedata
from collections.abc import Iterable

from cases.models import Case, CaseMember, normalise_document_number

MEMBER_SEPARATOR = "\n"


def search_words(text: str) -> list[str]:
    """The words of ``text`` as the search compares them: accents dropped
    (José → jose, Ñ → n), case folded, anything but letters and digits a
    separator."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return "".join(ch if ch.isalnum() else " " for ch in plain).split()


def document_words(number: str) -> list[str]:
    """A document number as one word, without separators; with a letter prefix
    (``V-12.345.678``) also its digits alone, as people often type them."""
    normalised = search_words(normalise_document_number(number))
    if not normalised:
        return []
    word = "".join(normalised)
    digits = word.lstrip("abcdefghijklmnopqrstuvwxyz")
    return [word, digits] if digits and digits != word else [word]


def member_line(given_names: str, family_names: str, document_number: str) -> str:
    return " ".join([*search_words(given_names), *search_words(family_names), *document_words(document_number)])


def search_document(people: Iterable[tuple[str, str, str]]) -> str:
    """The document of a case from its members' ``(given_names, family_names,
    document_number)``, in membership order."""
    lines = (member_line(*person) for person in people)
    return MEMBER_SEPARATOR.join(line for line in lines if line)


def case_search_documents(case_ids) -> dict:
    """The search document of each case, from its current members (one query)."""
    documents: dict = {case_id: [] for case_id in case_ids}
    rows = (CaseMember.objects.filter(case_id__in=list(documents)).order_by("case_id", "added_at", "id")
            .values_list("case_id", "person__given_names", "person__family_names", "person__document_number"))
    for case_id, *person in rows:
        documents[case_id].append(person)
    return {case_id: search_document(people) for case_id, people in documents.items()}


def case_search_refresh(*, case_ids) -> None:
    """Rewrite the search document of these cases from their members: after a
    member is added or removed, or a person's names or document change. One
    read and one update, however many cases the person is in."""
    documents = case_search_documents(case_ids)
    if documents:
        Case.objects.bulk_update([Case(pk=case_id, search_document=document)
                                  for case_id, document in documents.items()], ["search_document"])
