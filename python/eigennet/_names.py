"""Name handling shared by activations, losses, updaters and initializers."""

from __future__ import annotations

import difflib
from typing import Iterable


def key(name: str) -> str:
    """The lookup key of a name: case-insensitive, ignoring '_', '-' and spaces."""
    return "".join(ch for ch in name.upper() if ch not in "_- ")


def resolve(kind: str, name: str, choices: Iterable[str]) -> str:
    """Return the canonical spelling of ``name`` among ``choices`` or raise ValueError with a hint."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a string or a {kind} object, got {type(name).__name__}")
    choices = list(choices)
    table = {key(c): c for c in choices}
    found = table.get(key(name))
    if found is not None:
        return found
    hint = difflib.get_close_matches(key(name), list(table), n=1, cutoff=0.6)
    suggestion = f'; did you mean "{table[hint[0]]}"?' if hint else ""
    raise ValueError(f'unknown {kind} "{name}"{suggestion} (known: {", ".join(sorted(choices))})')
