"""A persistent array for the ratchet tree: deriving a version costs ``O(log N)``, not a copy.

A :class:`TreeArray` holds the values of node indices ``0 .. len - 1`` (``None`` where
unset) in a shallow 32-way trie: leaf chunks of 32 values under internal lists of 32
children. :meth:`TreeArray.copy` shares the whole trie, and a write copies only the
lists on the path to its index (path copying), so a commit that changes ``log N`` nodes
copies about ``log N`` small lists instead of arrays of ``2N`` entries. A read walks
two to four lists.

Ownership: the last slot of every trie list holds the token of the array that made it.
An array writes in place only into lists that hold its own token and copies any other
list first; :meth:`copy` gives both arrays fresh tokens, so afterwards neither changes
a list the other can see. That also keeps writes by an array that other versions were
derived from (the memoized hashes a tree fills in lazily) private to it. Entries at and
past ``len`` are always ``None``, so growing needs no clearing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain, islice
from typing import Any, Generic, TypeVar

T = TypeVar("T")

BITS = 5
WIDTH = 1 << BITS  # values per chunk and children per internal list
MASK = WIDTH - 1

_Node = list[Any]  # WIDTH entries, then the owner token

_NOBODY = object()  # the token of the shared empty lists: every writer copies them
_EMPTY: list[_Node] = [[None] * WIDTH + [_NOBODY]]  # _EMPTY[k]: an empty subtree of height k


def _empty(height: int) -> _Node:
    while len(_EMPTY) <= height:
        _EMPTY.append([_EMPTY[-1]] * WIDTH + [_NOBODY])
    return _EMPTY[height]


def _owned(node: _Node, owner: object) -> _Node:
    copy = node.copy()
    copy[WIDTH] = owner
    return copy


class TreeArray(Generic[T]):
    """A fixed-length array of ``T | None`` with O(1) :meth:`copy`; see the module doc."""

    __slots__ = ("_len", "_owner", "_root", "_shift")

    def __init__(self, length: int = 0) -> None:
        self._len = 0
        self._shift = 0  # BITS * (height of the root); 0 when the root is a chunk
        self._root = _empty(0)
        self._owner = object()
        self.resize(length)

    @classmethod
    def from_list(cls, items: Sequence[T | None]) -> TreeArray[T]:
        """An array of ``items``, built bottom up in ``O(len)``."""
        array: TreeArray[T] = cls()
        owner = array._owner
        level: list[_Node] = []
        for start in range(0, len(items), WIDTH):
            chunk = list(items[start : start + WIDTH])
            level.append(chunk + [None] * (WIDTH - len(chunk)) + [owner])
        height = 0
        while len(level) > 1:
            pad = [_empty(height)] * (-len(level) % WIDTH)
            level = [
                level[i : i + WIDTH] + pad[: max(0, i + WIDTH - len(level))] + [owner]
                for i in range(0, len(level), WIDTH)
            ]
            height += 1
        if level:
            array._root, array._shift, array._len = level[0], BITS * height, len(items)
        return array

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, x: int) -> T | None:
        if not 0 <= x < self._len:
            raise IndexError(f"index {x} outside an array of {self._len}")
        node = self._root
        shift = self._shift
        while shift:
            node = node[(x >> shift) & MASK]
            shift -= BITS
        value: T | None = node[x & MASK]
        return value

    def __setitem__(self, x: int, value: T | None) -> None:
        if not 0 <= x < self._len:
            raise IndexError(f"index {x} outside an array of {self._len}")
        self._chunk_for_write(x)[x & MASK] = value

    def _chunk_for_write(self, x: int) -> _Node:
        """The chunk holding ``x``, ours to change: lists on the way are copied if shared."""
        owner = self._owner
        node = self._root
        if node[WIDTH] is not owner:
            node = self._root = _owned(node, owner)
        shift = self._shift
        while shift:
            i = (x >> shift) & MASK
            child = node[i]
            if child[WIDTH] is not owner:
                child = node[i] = _owned(child, owner)
            node = child
            shift -= BITS
        return node

    def copy(self) -> TreeArray[T]:
        """An independent array with the same values, sharing the whole trie."""
        other: TreeArray[T] = TreeArray.__new__(TreeArray)
        other._len, other._shift, other._root = self._len, self._shift, self._root
        other._owner = object()
        self._owner = object()  # lists we made are shared from now on: copy before writing
        return other

    def resize(self, length: int) -> None:
        """Grow (new entries are ``None``) or shrink to ``length`` entries."""
        if length < 0:
            raise ValueError("negative length")
        if length < self._len:
            self._clear_from(length)
        while length > WIDTH << self._shift:  # one more level on top
            height = self._shift // BITS
            self._root = [self._root] + [_empty(height)] * (WIDTH - 1) + [self._owner]
            self._shift += BITS
        while self._shift and length <= WIDTH << (self._shift - BITS):  # one level less
            self._root = self._root[0]
            self._shift -= BITS
        self._len = length

    def _clear_from(self, start: int) -> None:
        """Set every entry from ``start`` on to ``None``: whole subtrees past it become
        the shared empty ones, so this costs ``O(log N)`` however much is cleared."""
        if start == 0:
            self._root = _empty(self._shift // BITS)
            return
        owner, shift = self._owner, self._shift
        if self._root[WIDTH] is not owner:
            self._root = _owned(self._root, owner)
        node = self._root
        while shift:
            i = (start >> shift) & MASK
            height = shift // BITS - 1
            node[i + 1 : WIDTH] = [_empty(height)] * (MASK - i)
            if not start & ((1 << shift) - 1):  # the subtree of ``start`` goes too
                node[i] = _empty(height)
                return
            child = node[i]
            if child[WIDTH] is not owner:
                child = node[i] = _owned(child, owner)
            node = child
            shift -= BITS
        i = start & MASK
        node[i:WIDTH] = [None] * (WIDTH - i)

    def __iter__(self) -> Iterator[T | None]:
        return self.values(0)

    def values(self, start: int, step: int = 1) -> Iterator[T | None]:
        """The values at ``start, start + step, ...`` below ``len``, read chunk by chunk."""
        if start >= self._len:
            return iter(())
        first = start - start % WIDTH
        flat = chain.from_iterable(chunk[:WIDTH] for chunk in self._chunks(first))
        return islice(flat, start - first, self._len - first, step)

    def first_blank(self, start: int, step: int = 1) -> int | None:
        """The first of ``start, start + step, ...`` below ``len`` that holds ``None``,
        searched a chunk at a time (``step`` divides the chunk width)."""
        if start >= self._len:
            return None
        first = start - start % WIDTH
        offset = start - first
        for base, chunk in enumerate(self._chunks(first), first // WIDTH):
            part = chunk[offset:WIDTH:step]
            if not all(part):  # a test in C; only a false value can be None
                j = next((j for j, value in enumerate(part) if value is None), None)
                if j is not None:
                    x = base * WIDTH + offset + j * step
                    return x if x < self._len else None
            offset %= step  # later chunks start at the same position modulo ``step``
        return None

    def _chunks(self, start: int) -> Iterator[_Node]:
        """The chunks from the one holding ``start`` on, left to right: a descent to that
        chunk, then the rest of each list on the way, flattened in C."""
        node, shift = self._root, self._shift
        later: list[Iterator[_Node]] = []
        while shift:
            i = (start >> shift) & MASK
            rest: Iterator[Any] = iter(node[i + 1 : WIDTH])
            for _ in range(shift // BITS - 1):  # down to the chunks
                rest = chain.from_iterable(child[:WIDTH] for child in rest)
            later.append(rest)
            node = node[i]
            shift -= BITS
        return chain((node,), *reversed(later))

    def to_list(self) -> list[T | None]:
        return list(self.values(0))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TreeArray):
            return NotImplemented
        if self._len != other._len:
            return False
        return self._root is other._root or self.to_list() == other.to_list()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TreeArray(len={self._len})"
