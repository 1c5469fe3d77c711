"""Map lines of a rendered template back to the lines the user wrote.

Inline expressions keep line counts, but a `{% for %}` loop, a multi-line macro or a
`{# ... #}` comment block adds or removes lines, and every YAML line after it would be
reported at the wrong place. Lines Jinja left untouched are found again by a diff of the
two texts (exact); a rendered line Jinja produced maps into the source block it came from.
"""

from __future__ import annotations

import difflib


def line_map(source: str, rendered: str) -> list[int]:
    """For each 0-based rendered line, the 0-based source line it comes from."""
    src, out = source.splitlines(), rendered.splitlines()
    if len(src) == len(out):
        return list(range(len(out)))
    mapping = [0] * len(out)
    matcher = difflib.SequenceMatcher(None, src, out, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for j in range(j1, j2):
            if tag == "equal":
                mapping[j] = i1 + (j - j1)
            elif i2 > i1:  # produced from source lines i1..i2 (a loop body, a macro call)
                mapping[j] = max(range(i1, i2), key=lambda i: (_likeness(src[i], out[j]), -i))
            else:  # lines produced where the source has none: the line before
                mapping[j] = max(i1 - 1, 0)
    return mapping


def _likeness(source_line: str, rendered_line: str) -> float:
    """How alike two lines are (0..1): `- name: country_{{ c }}` is most like `- name: country_kr`."""
    return difflib.SequenceMatcher(None, source_line, rendered_line, autojunk=False).ratio()
