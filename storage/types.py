"""The connection type the repositories are written against.

``sqlcipher3`` is an API-identical fork of the standard ``sqlite3`` module and ships no type
information, so the stdlib class describes it. The same repository code also runs on a plain
``sqlite3`` connection, which is what the benchmark's unencrypted peer uses.
"""

from __future__ import annotations

import sqlite3
from typing import TypeAlias

Connection: TypeAlias = sqlite3.Connection

__all__ = ["Connection"]
