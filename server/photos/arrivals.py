"""Recording verified photos, several per transaction (group commit).

Every finished upload needs a write transaction: its ``blobs`` row, and a change-log entry for each
step, checkpoint visit or finding that references it (see :func:`record_arrivals`). That transaction
is small, but on SQLite it holds the single write lock through its fsync (~4 ms here), so with eight
phones finishing at once each finish queued ~25 ms for the lock, longer than its own hash check and
image decode. Arrivals are therefore queued and written by one task, a transaction at a time, each
with every arrival that queued while the previous one committed: one fsync for all of them. Under
light load a transaction holds one arrival and nothing waits.

A caller's ``record`` returns only once its arrival has committed, so ``complete: true`` still comes
after the row is durable. If a shared transaction fails, each of its arrivals is retried alone, so
one bad arrival fails only its own request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import anyio

from server.clock import Clock
from server.db.engine import Database
from server.photos.blobstore import BlobInfo, BlobStore
from server.photos.service import record_arrivals
from server.syncing import changelog


class ArrivalRecorder:
    def __init__(self, db: Database, clock: Clock):
        self._db = db
        self._clock = clock
        self._queue: list[tuple[BlobInfo, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, info: BlobInfo) -> None:
        """Record ``info``'s arrival; returns once it is committed (raises what the write raised)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        done.add_done_callback(_consume)
        self._queue.append((info, done))
        writer = self._writer
        if writer is not None and writer.get_loop() is not loop:
            # A loop that has gone (tests run one per test): what it queued has no one waiting.
            self._queue = [(i, f) for i, f in self._queue if f.get_loop() is loop]
            writer = None
        if writer is None or writer.done():
            self._writer = loop.create_task(self._write_queued())
        # A caller that goes away (client gone) does not cancel the write: the others share it.
        await asyncio.shield(done)

    async def _write_queued(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._write([info for info, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                    continue
                for info, done in batch:  # find the one that fails; the others still land
                    try:
                        await self._write([info])
                    except Exception as alone:
                        _settle(done, alone)
                    else:
                        _settle(done, None)
            except BaseException:  # cancelled (shutdown): so are the waiters
                for _, done in batch:
                    done.cancel()
                raise
            else:
                for _, done in batch:
                    _settle(done, None)

    async def _write(self, infos: Sequence[BlobInfo]) -> None:
        async with self._db.writer() as session:
            await changelog.transaction_version(session)  # serialises with the pushes' change rows
            await record_arrivals(session, infos, self._clock.now())  # a no-op for blobs recorded already
            await session.commit()


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


def _consume(done: asyncio.Future[None]) -> None:
    # The waiter may have gone away (cancelled): mark its error as seen so asyncio does not log it.
    if not done.cancelled():
        done.exception()


async def finish_upload(
    store: BlobStore, arrivals: ArrivalRecorder, sha: str, last_chunk: tuple[int, bytes] | None = None
) -> BlobInfo:
    """Verify and store the blob (after appending ``last_chunk``, ``(offset, bytes)``, if given), then
    record its arrival. The file work runs in a thread, outside any database transaction."""
    if last_chunk is None:
        info = await anyio.to_thread.run_sync(store.finish, sha)
    else:
        info = await anyio.to_thread.run_sync(store.append_and_finish, sha, *last_chunk)
    await arrivals.record(info)
    return info
