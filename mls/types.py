"""Small value types shared across ``mls``: typed indices, counters and seams.

``NewType`` keeps leaf and node indices apart for mypy at no runtime cost beyond a call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NewType

LeafIndex = NewType("LeafIndex", int)
"""Position of a member among the leaves (RFC 9420 section 4: leaf ``L`` is node ``2L``)."""

NodeIndex = NewType("NodeIndex", int)
"""Position in the array representation of the tree (RFC 9420 section 4.1)."""

LeafCount = NewType("LeafCount", int)
"""Number of leaves of a tree; always a power of two in RFC 9420 trees."""

Epoch = NewType("Epoch", int)
"""``uint64 epoch`` of a GroupContext."""

Generation = NewType("Generation", int)
"""``uint32 generation`` of a secret-tree ratchet (RFC 9420 section 9.1)."""

Rng = Callable[[int], bytes]
"""The randomness seam: ``rng(n)`` returns ``n`` uniformly random bytes."""
