"""Name handling shared by activations, losses, updaters and initializers."""

from __future__ import annotations

from typing import Iterable, Optional


def key(name: str) -> str:
    """The lookup key of a name: case-insensitive, ignoring '_', '-' and spaces."""
    return "".join(ch for ch in name.upper() if ch not in "_- ")


def _edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    previous, row = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, current = row, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(before[j] + 1, current[j - 1] + 1, before[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous[j - 2] + 1)
        previous, row = before, current
    return row[len(b)]


def closest(name: str, choices: Iterable[str]) -> Optional[str]:
    """The choice nearest to ``name`` (ties go to the one of closest length), if any is close.
    The core's ``closest_name`` uses the same rule."""
    target = key(name)
    best, best_rank = None, (max(2, len(target) // 3) + 1, 0)
    for choice in choices:
        candidate = key(choice)
        rank = (_edit_distance(target, candidate), abs(len(candidate) - len(target)))
        if rank < best_rank:
            best, best_rank = choice, rank
    return best


def resolve(kind: str, name: str, choices: Iterable[str]) -> str:
    """Return the canonical spelling of ``name`` among ``choices`` or raise ValueError with a hint."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a string or a {kind} object, got {type(name).__name__}")
    choices = list(choices)
    table = {key(c): c for c in choices}
    found = table.get(key(name))
    if found is not None:
        return found
    hint = closest(name, choices)
    suggestion = f'; did you mean "{hint}"?' if hint else ""
    raise ValueError(f'unknown {kind} "{name}"{suggestion} (known: {", ".join(sorted(choices))})')
