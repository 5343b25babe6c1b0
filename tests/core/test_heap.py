"""What lives as long as the process is frozen; what is already garbage is collected first."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.core.heap import freeze_long_lived


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """A test process is not a server: give its heap back to the collector afterwards."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_long_lived_objects_are_left_out_of_later_collections(unfrozen: None) -> None:
    long_lived = [{"entry": n} for n in range(5_000)]
    freeze_long_lived()
    assert gc.get_freeze_count() >= len(long_lived)
    assert not any(o is long_lived for o in gc.get_objects()), "no generation holds it any more"


def test_a_cycle_that_is_already_garbage_is_freed_not_frozen(unfrozen: None) -> None:
    class Node:
        other: Node | None = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    freeze_long_lived()
    assert gone() is None
