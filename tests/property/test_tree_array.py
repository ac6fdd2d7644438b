"""``TreeArray`` behaves like a list per version: writes, growth, shrinking and copies of
any version never show through in another one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mls.tree_array import WIDTH, TreeArray

# Lengths around the chunk and level boundaries (32, 1024, 32768).
LENGTHS = st.one_of(
    st.integers(0, 70),
    st.sampled_from([WIDTH - 1, WIDTH, WIDTH + 1, WIDTH**2 - 1, WIDTH**2, WIDTH**2 + 1]),
    st.integers(0, 3 * WIDTH**2),
)
# (operation, index or length, value, which version); writes go to old versions too, as
# when a tree fills in memoized hashes after newer trees were derived from it.
OPS = st.lists(
    st.tuples(
        st.sampled_from(["set", "clear", "resize", "copy"]),
        st.one_of(st.integers(0, 1 << 20), LENGTHS),
        st.integers(0, 9),
        st.integers(0, 100),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(start=st.lists(st.one_of(st.none(), st.integers(0, 9)), max_size=100), ops=OPS)
def test_every_version_is_its_own_list(
    start: list[int | None], ops: list[tuple[str, int, int, int]]
) -> None:
    versions: list[tuple[TreeArray[int], list[int | None]]] = [
        (TreeArray.from_list(start), list(start))
    ]
    for kind, n, value, pick in ops:
        array, model = versions[pick % len(versions)]
        if kind == "copy":
            versions.append((array.copy(), list(model)))
        elif kind == "resize":
            length = n % (3 * WIDTH**2 + 1)
            array.resize(length)
            model[length:] = []
            model += [None] * (length - len(model))
        elif model:
            x = n % len(model)
            array[x] = model[x] = value if kind == "set" else None
        for array, model in versions:  # every version, after every step
            assert len(array) == len(model)
            assert array.to_list() == model
    for array, model in versions:
        for x in range(0, len(model), 7):
            assert array[x] == model[x]
            assert list(array.values(x, 2)) == model[x::2]
            for step in (1, 2):
                blank = next((y for y in range(x, len(model), step) if model[y] is None), None)
                assert array.first_blank(x, step) == blank
        assert array == TreeArray.from_list(model)


def test_a_derived_version_copies_only_the_path_it_writes() -> None:
    base = TreeArray.from_list(list(range(WIDTH**3)))
    derived = base.copy()
    derived[5] = -1
    derived[WIDTH**3 - 1] = -2
    # Two writes: their two chunks are copied, the other 1022 are still shared.
    shared = [
        a is b
        for a, b in zip(
            base._chunks(0),
            derived._chunks(0),
            strict=True,
        )
    ]
    assert shared.count(False) == 2 and len(shared) == WIDTH**2
    assert base[5] == 5 and derived[5] == -1


def test_growing_and_shrinking_keep_the_rest() -> None:
    array = TreeArray.from_list(list(range(100)))
    array.resize(40_000)
    assert array[99] == 99 and array[100] is None and array[39_999] is None
    array[39_999] = 7
    array.resize(63)
    assert array.to_list() == list(range(63))
    array.resize(40_000)  # what was cut off does not come back
    assert array[39_999] is None and array[63] is None
    # The same without losing a level: 3000 and 1500 both need 1024-entry subtrees.
    array = TreeArray.from_list(list(range(3000)))
    array.resize(1500)
    array.resize(3000)
    assert array.to_list() == [*range(1500), *[None] * 1500]


def test_indices_outside_raise() -> None:
    array = TreeArray.from_list([1, 2, 3])
    for x in (-1, 3):
        with pytest.raises(IndexError):
            array[x]
        with pytest.raises(IndexError):
            array[x] = 0
