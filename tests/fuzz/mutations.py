"""Real files, damaged: the inputs that reach deepest into a parser or a loader.

A shipped playbook, inventory, scenario or SMDR capture is valid; a few characters
changed, deleted, repeated or inserted (a control character, a digit run, YAML syntax)
make it almost valid, which is where unforeseen exceptions live.
"""

from __future__ import annotations

from hypothesis import strategies as st

_INSERTS = st.sampled_from([
    "\x00", "\f", "\r", "\x1b", "\x85", "\u2028", "\ufeff", "é", "٣", "\t", "~", "&a",
    "*a", "!!python/object:os.system", "{", "[", "]", "}", ":", " ", "\n  ", "- ", "'",
    '"', "%", "{{", "}}", "9" * 30, "9" * 5000, "-1", "1e9", ".inf", "null", "yes",
])


@st.composite
def mutated(draw: st.DrawFn, text: str, *, most: int = 4) -> str:
    """``text`` with up to ``most`` edits: delete a span, repeat one, insert a token."""
    for _ in range(draw(st.integers(0, most))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(("delete", "repeat", "insert", "replace")))
        length = draw(st.integers(1, 12))
        if edit == "delete":
            text = text[:at] + text[at + length:]
        elif edit == "repeat":
            text = text[:at] + text[at:at + length] * draw(st.integers(2, 4)) + text[at:]
        elif edit == "insert":
            text = text[:at] + draw(_INSERTS) + text[at:]
        else:
            text = text[:at] + draw(_INSERTS) + text[at + length:]
    return text
