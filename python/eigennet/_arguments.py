"""Argument checks shared by the model and the callbacks: each raises TypeError naming the argument."""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def check_path(value: Any, name: str) -> str:
    """A file path as str; bytes paths and other types are refused."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), got {type(value).__name__}")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"{name} must be a str path, got {type(path).__name__}")
    return path


def check_flag(value: Any, name: str) -> bool:
    """True or False (NumPy booleans included); truthy stand-ins such as "no" or 1 are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)
