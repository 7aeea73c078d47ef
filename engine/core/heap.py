"""The garbage collector around large loads and runs: what they build lives on, so it is not walked.

CPython's collector walks every object it tracks at each full collection, and one comes each time
the objects that outlived the young generations grow by a quarter. Loading or running 100,000
steps builds millions of objects that live as long as the load or the run, so the same objects
were walked a dozen times over: load and run went from linear to superlinear (about a third of a
100,000-step run's time was the collector's). Both fixes restore the collector's state after.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LARGE_LOAD_BYTES", "LARGE_RUN_STEPS", "CHECKPOINT_STEPS", "paused_gc", "LargeRun"]

LARGE_LOAD_BYTES = 512 * 1024  # a file this large is read with the collector paused
LARGE_RUN_STEPS = 5_000  # a run of at least this many steps takes the large-run course
CHECKPOINT_STEPS = 5_000  # a large run moves what survived out of the collector's way this often


@contextmanager
def paused_gc(pause: bool = True) -> Iterator[None]:
    """No collection while a file's data and model are built (they hold no cycles to collect:
    a collection could only walk them); the collector's state is restored after."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class LargeRun:
    """A large run's objects (its workflow, the results it gathers) leave the collector's walk:
    at its start and every CHECKPOINT_STEPS finished steps whatever is alive is frozen
    (`gc.freeze`), and when the last large run under way ends, it is unfrozen. Young garbage is
    still collected as usual while the run goes on; what was garbage when a checkpoint froze it
    waits until then. A process that froze objects itself is left alone."""

    _active = 0  # large runs under way in this process
    _owned = False  # whether the frozen objects are ours to unfreeze

    def __init__(self, steps: int) -> None:
        self.on = steps >= LARGE_RUN_STEPS
        self._finished = 0

    def __enter__(self) -> LargeRun:
        if not self.on:
            return self
        cls = LargeRun
        if cls._active == 0:
            cls._owned = gc.get_freeze_count() == 0
        cls._active += 1
        self._freeze()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.on:
            return
        cls = LargeRun
        cls._active -= 1
        if cls._active == 0 and cls._owned:
            gc.unfreeze()
            cls._owned = False

    def step_finished(self) -> None:
        if self.on:
            self._finished += 1
            if self._finished % CHECKPOINT_STEPS == 0:
                self._freeze()

    @staticmethod
    def _freeze() -> None:
        if LargeRun._owned:
            gc.freeze()
