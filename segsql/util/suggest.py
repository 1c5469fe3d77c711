""""Did you mean …": the closest valid name first, then a short list of the others.

Every message that rejects a name (a key, an operator, a segment, a selector, a target)
builds its hint here, so a typo always gets the same kind of help and a long list of
valid names never buries the likely one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: Valid names listed after the suggestion; longer lists are cut (the closest come first).
SHOWN = 10


def closest(word: str, options: Iterable[str]) -> str | None:
    """The valid name most like `word`, if any is reasonably close (case-insensitive)."""
    names = list(dict.fromkeys(str(o) for o in options))
    lowered = {n.lower(): n for n in names}
    if word.lower() in lowered:
        return lowered[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    if match:
        return lowered[match[0]]
    prefixed = [n for n in names if n.lower().startswith(word.lower()) or word.lower().startswith(n.lower())]
    return min(prefixed, key=len) if word and prefixed else None


def suggest(word: str, options: Iterable[str], *, what: str = "") -> str:
    """A hint: `did you mean 'x'? (or: a, b, c)`, else `use one of: a, b, c` (at most SHOWN)."""
    names = list(dict.fromkeys(str(o) for o in options))
    if not names:
        return f"there is no {what} to use yet" if what else "nothing is valid here"
    best = closest(word, names)
    ranked = sorted(names, key=lambda n: -difflib.SequenceMatcher(None, word.lower(), n.lower()).ratio())
    others = [n for n in (ranked if len(names) > SHOWN else names) if n != best]
    listed = ", ".join(others[:SHOWN]) + (f" and {len(others) - SHOWN} more" if len(others) > SHOWN else "")
    if best is None:
        return f"use one of: {listed}"
    return f"did you mean {best!r}?" + (f" (others: {listed})" if others else "")
