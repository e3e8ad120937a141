"""One after-fork reset for the whole package.

A forked child has only the thread that called ``fork()``. A lock another thread held at that
moment stays held forever in the child, and a signing another thread led never finishes there.
Every object that owns such state registers here once, with a function that puts it back in
order; a single ``os.register_at_fork`` hook, installed when this module is imported, runs
those functions in the child.

Owners are held weakly, so registering never keeps an object alive. A module is a valid owner
(modules are weak-referenceable): that is how module-level locks register.
"""

from __future__ import annotations

import itertools
import os
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["register"]

T = TypeVar("T")

# Registration number -> (weak reference to the owner, its reset). Keyed by a number rather
# than by the owner so that owners need not be hashable and one owner may register twice.
# No lock: one dict operation is atomic under the GIL, and a lock here would itself need a
# reset after fork. Dead owners remove themselves through the weakref callback.
_resets: dict[int, tuple[weakref.ref[Any], Callable[[Any], None]]] = {}
_numbers = itertools.count()


def register(owner: T, reset: Callable[[T], None]) -> None:
    """In a forked child, call ``reset(owner)`` for every still-alive owner (weakly held).

    Resets run in registration order, in the child only, before ``os.fork()`` returns there.

    Args:
        owner: The object whose state must be reset; held through a weak reference.
        reset: Called with the owner. It must not hold the owner itself (a bound method of
            the owner would keep it alive forever): pass ``type(owner).method`` or a function.

    Raises:
        ValueError: ``reset`` is a method bound to ``owner``.
        TypeError: ``owner`` cannot be weakly referenced (e.g. a class with ``__slots__`` and
            no ``__weakref__`` slot).
    """
    if getattr(reset, "__self__", None) is owner:
        raise ValueError("reset must not be bound to owner: it would never be collected")
    number = next(_numbers)
    ref = weakref.ref(owner, lambda _ref: _resets.pop(number, None))
    _resets[number] = (ref, reset)


def _after_fork_in_child() -> None:
    # Only the forking thread exists now, so the registry cannot change under this loop.
    first_error: BaseException | None = None
    for ref, reset in list(_resets.values()):
        owner = ref()
        if owner is None:
            continue
        try:
            reset(owner)
        except BaseException as exc:  # one broken reset must not skip the others
            first_error = first_error or exc
    if first_error is not None:
        raise first_error  # reported by the interpreter as an unraisable hook error


if hasattr(os, "register_at_fork"):  # absent on Windows, which has no fork()
    os.register_at_fork(after_in_child=_after_fork_in_child)
