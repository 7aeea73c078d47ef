"""EngineThread: an asyncio loop of its own in a worker thread, where the designer's runs execute.

Why a thread and not qasync's loop: mocks that answer at once let a run hog a shared loop
(STYLE.md measured 366 ms gaps between 16 ms Qt ticks); on its own loop the engine only shares
the GIL, which Python hands over every few milliseconds. Events come back through a deque the
GUI drains on a timer, so the GUI thread does a bounded amount of work per tick.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["EngineThread"]

T = TypeVar("T")


class EngineThread:
    """A daemon thread running an asyncio event loop until `stop()`."""

    def __init__(self, name: str = "switchboard-engine") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._ready.clear()
            self._thread = threading.Thread(target=self._main, name=self._name, daemon=True)
            self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            # cancel whatever is left so no coroutine is destroyed while pending
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = None

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run a coroutine on the worker loop (starting the thread if need be)."""
        self.start()
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def call_soon(self, fn: Callable[[], object]) -> None:
        """Call `fn` on the worker loop's thread; nothing happens if the thread is not running."""
        loop = self._loop
        if loop is not None and self.running:
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(fn)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop (cancelling what still runs) and wait for the thread to end."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
            if thread is not threading.current_thread():
                thread.join(timeout)
        self._thread = None
