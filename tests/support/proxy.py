"""A TCP proxy on 127.0.0.1 for fault tests: cut every connection through it and refuse new ones, then recover.

It runs its own event loop in a thread, so synchronous and asynchronous tests use it alike. It listens on a
port the kernel picks (read back from the socket, never guessed).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

__all__ = ["CuttableProxy"]


class CuttableProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target_port` until `cut()`; `restore()` accepts again."""

    def __init__(self, target_port: int) -> None:
        self.port = 0
        self.target_port = target_port
        self.open = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="cuttable-proxy")
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the proxy did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._ready.set()
        self._loop.run_forever()
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        self._loop.run_until_complete(asyncio.sleep(0))

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_w}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
        self._writers -= {writer, up_w}

    def _call(self, fn: Callable[[], object]) -> None:
        """Run `fn` on the proxy's loop and wait until it has run."""

        async def run() -> None:
            fn()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(5)

    def cut(self) -> None:
        """Abort every open connection (both sides see a reset) and refuse new ones; returns once done."""

        def _cut() -> None:
            self.open = False
            for w in list(self._writers):
                w.transport.abort()

        self._call(_cut)

    def restore(self) -> None:
        """Accept and forward new connections again; returns once in effect."""
        self._call(lambda: setattr(self, "open", True))

    def close(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for w in list(self._writers):
                w.transport.abort()
            await asyncio.sleep(0)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
