"""Search keys for names: found however their accents, capitals and punctuation are typed.

A practitioner looking for Zoë Ó Briain types "zoe o briain", "ZOË", "obriain" or the surname
first. A family missed by search is a family recorded twice, with its history split in two, so
names are matched on a key that keeps only what a keyboard reliably gives: letters and digits,
without accents, in one case, apostrophes dropped ("O'Brien" is "obrien") and any other
punctuation a word break ("Smith-Jones" is "smith jones"). The same function keys the stored
names and what is typed, so SQLite and PostgreSQL match alike, whatever their collations.
"""

from __future__ import annotations

import unicodedata

APOSTROPHES = frozenset("'\u2018\u2019\u02bc\u0060\u00b4")
"""Dropped, joining the word: O'Brien, O\u2019Brien (a typographic apostrophe) and OBrien are
one name."""

# Letters that keep their mark after decomposition (NFKD leaves them whole).
_LETTERS = str.maketrans(
    {
        "\u0142": "l",  # l with stroke (Polish)
        "\u0111": "d",  # d with stroke (Croatian, Vietnamese)
        "\u00f0": "d",  # eth (Icelandic)
        "\u00f8": "o",  # o with stroke (Danish, Norwegian)
        "\u00e6": "ae",  # ash
        "\u0153": "oe",  # oe ligature
        "\u0131": "i",  # dotless i (Turkish)
        "\u00fe": "th",  # thorn (Icelandic)
        "\u0127": "h",  # h with stroke (Maltese)
        "\u0167": "t",  # t with stroke (Sami)
        "\u0140": "l",  # l with middle dot (Catalan)
    }
)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    # every mark goes (accents, and the vowel signs of scripts such as Bengali), not only
    # those with a combining class, so no mark splits a word in two
    bare = "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M"))
    return bare.translate(_LETTERS)


def search_words(text: str | None) -> list[str]:
    """The words of a name or of a search, folded: letters and digits only, lower case."""
    if not text:
        return []
    kept = []
    for ch in _fold(text):
        if ch.isalnum():
            kept.append(ch)
        elif ch not in APOSTROPHES:
            kept.append(" ")
    return "".join(kept).split()


def search_key(*parts: str | None) -> str:
    """One stored key for several name parts: their folded words, separated by spaces."""
    return " ".join(word for part in parts for word in search_words(part))
