"""Converting a big table in worker processes, handing the results back in rowid order.

Why: on the 1.2M-row reference file the Python side (read from SQLite, convert exactly,
encode binary COPY, MD5 row digest: about 8 microseconds a row) is the bound of the whole
migration, and it ran on one core while PostgreSQL used little of the other. The GIL keeps
threads from sharing that work, so it goes to processes: each converts rowid ranges
(*chunks*) of the backup with the very same generated row function
(:func:`rms.migrate.fastpath.row_function`) and returns the chunk's COPY bytes, row count,
digest sum and (for a referenced table) its ids. The loading process writes the chunks to
its one COPY stream **in rowid order**, in its one transaction: nothing about atomicity,
the order of rows or the verification changes; only who computes the bytes.

A worker never judges a row: at the first row its fast path does not accept (a bad value,
a reference to an unknown id, text that is not UTF-8) it gives the chunk up, and the loader
goes on from the start of that chunk with the ordinary one-process scan, which names every
problem exactly as before. Tables that need state across rows (unique values checked in
Python), that read TEMP tables of the loading connection, or that are small stay on that
ordinary path altogether.

The pool is forked before the run starts any thread (the backup's background checks), so
no lock of another thread can be inherited held; workers ignore Ctrl-C (the loading process
handles it and rolls back) and are killed with the loading process (``PR_SET_PDEATHSIG``),
so a killed run leaves no converter behind. At most ``2 x workers`` chunks are in flight,
which bounds memory (a chunk of 50,000 trades is about 7 MB of COPY bytes).

``multiprocessing`` is the standard library's; what is hand-written here is only the chunk
protocol, which no library offers for a generated per-row function.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sqlite3
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any

from rms.migrate.convert import BadValue
from rms.migrate.fastpath import row_function
from rms.migrate.sqlite import FETCH_ROWS, open_source
from rms.transfer.spec import table_specs

__all__ = [
    "Chunk",
    "ConverterPool",
    "auto_workers",
    "chunk_ranges",
    "idle_cores",
    "usable_cpus",
    "workers_for",
]

#: Rows per chunk handed to a worker.
CHUNK_ROWS = 50_000

_PR_SET_PDEATHSIG = 1

#: Most worker processes ``auto`` starts (beyond that the one COPY stream is the bound).
MAX_AUTO_WORKERS = 4
#: How long ``auto`` watches the CPUs before choosing.
IDLE_SAMPLE_SECONDS = 0.25


# ----------------------------------------------------------------- how many workers


def usable_cpus() -> set[int] | None:
    """The CPUs this process may run on (its affinity: ``taskset``, a container's cpuset),
    or None where that cannot be asked (then every CPU counts)."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    return set(getaffinity(0)) if getaffinity is not None else None


def _cpu_times(stat: Path, cpus: set[int] | None = None) -> tuple[int, int]:
    """(idle, total) jiffies from ``/proc/stat``: of all CPUs (its first line), or summed
    over the ``cpuN`` lines of ``cpus``."""
    lines = stat.read_text().splitlines()
    if cpus is None:
        rows = [lines[0].split()]
    else:
        rows = [
            fields
            for fields in (line.split() for line in lines)
            if fields and fields[0].startswith("cpu") and fields[0][3:].isdigit()
            if int(fields[0][3:]) in cpus
        ]
        if not rows:
            raise ValueError(f"no line for CPUs {sorted(cpus)} in {stat}")
    idle = total = 0
    for fields in rows:
        values = [int(v) for v in fields[1:]]
        idle += values[3] + values[4]  # idle + iowait
        total += sum(values)
    return idle, total


def idle_cores(
    sample_seconds: float = IDLE_SAMPLE_SECONDS,
    stat: Path = Path("/proc/stat"),
    cpus: set[int] | None = None,
) -> float:
    """How many of the CPUs this process may use are idle right now.

    ``cpus`` defaults to :func:`usable_cpus`: pinned to one core of two (``taskset -c 0``),
    the other core's idleness is no use to the workers, which would inherit the same mask.
    Measured over ``sample_seconds`` from ``/proc/stat`` (Linux); elsewhere the CPU count
    minus the one-minute load average. A load average lags by a minute, which is why it is
    only the fallback: the 2-core machines this is measured on go from busy to idle often.
    A container's CPU quota (cgroup ``cpu.max``) is not read: it limits time, not CPUs.
    """
    allowed = cpus if cpus is not None else usable_cpus()
    count = len(allowed) if allowed is not None else (os.cpu_count() or 1)
    try:
        idle0, total0 = _cpu_times(stat, allowed)
        time.sleep(sample_seconds)
        idle1, total1 = _cpu_times(stat, allowed)
    except (OSError, ValueError, IndexError):
        try:
            return max(0.0, count - os.getloadavg()[0])
        except OSError:  # pragma: no cover - no load average either
            return 0.0
    if total1 <= total0:
        return 0.0
    return count * (idle1 - idle0) / (total1 - total0)


def workers_for(idle: float, cpus: int) -> int:
    """Workers for ``idle`` idle CPUs out of ``cpus``: one per idle CPU, or none.

    The loading process and PostgreSQL's COPY backend need CPU too, so workers only pay
    when at least two CPUs are idle (measured in docs/benchmarks.md: on 2 busy cores the
    workers made the copy phase slower, on 2 idle ones they cut it from 27.2 s to 20.9 s).
    """
    usable = min(int(idle + 0.25), cpus, MAX_AUTO_WORKERS)
    return usable if usable >= 2 else 0


def auto_workers() -> int:
    """The worker count for ``--workers auto``: :func:`workers_for` the idle CPUs now."""
    allowed = usable_cpus()  # asked once: the idle sample and the count use the same CPUs
    count = len(allowed) if allowed else (os.cpu_count() or 1)
    return workers_for(idle_cores(cpus=allowed), count)


@dataclass
class Chunk:
    """The result of one rowid range: converted, or given up (``data is None``)."""

    low: int  # rowid > low
    high: int  # rowid <= high
    rows: int
    data: bytes | None
    total: int
    ids: list[Any] | None


def chunk_ranges(conn: sqlite3.Connection, sql_name: str, rows: int) -> list[tuple[int, int]]:
    """(low, high] rowid ranges of about :data:`CHUNK_ROWS` rows covering the table."""
    found = conn.execute(f"SELECT min(rowid), max(rowid) FROM {sql_name}").fetchone()  # noqa: S608
    if found is None or found[0] is None:
        return []
    first, last = int(found[0]), int(found[1])
    count = max(1, -(-rows // CHUNK_ROWS))
    span = max(1, -(-(last - first + 1) // count))
    ranges = []
    low = first - 1
    while low < last:
        high = min(last, low + span)
        ranges.append((low, high))
        low = high
    return ranges


# --------------------------------------------------------------------------- the worker

_source: sqlite3.Connection | None = None
_source_path: str | None = None


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # die with the loading process, whatever kills it (Linux; best effort elsewhere)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() == 1:  # pragma: no cover - the parent died before prctl took effect
        os._exit(1)


def _convert_chunk(
    backup: str,
    table: str,
    select: list[str],
    sql_name: str,
    references: dict[str, set[Any]],
    keep_ids: bool,
    low: int,
    high: int,
) -> Chunk:
    global _source, _source_path
    if _source is None or _source_path != backup:
        _source = open_source(Path(backup))
        _source_path = backup
    spec = next(s for s in table_specs() if s.name == table)
    convert_row = row_function(spec, references)
    pk_index = spec.column_names.index(spec.pk)
    query = (
        f"SELECT rowid, {', '.join(select)} FROM {sql_name} "  # noqa: S608
        "WHERE rowid > ? AND rowid <= ? ORDER BY rowid"
    )
    parts: list[bytes] = []
    ids: list[Any] | None = [] if keep_ids else None
    total = 0
    rows = 0
    try:
        cursor = _source.execute(query, (low, high))
        while batch := cursor.fetchmany(FETCH_ROWS):
            for raw in batch:
                data, digest, row = convert_row(raw)
                parts.append(data)
                total += digest
                if ids is not None:
                    ids.append(row[pk_index])
            rows += len(batch)
    except (BadValue, sqlite3.Error):  # the loader's own scan names the problem
        return Chunk(low, high, 0, None, 0, None)
    return Chunk(low, high, rows, b"".join(parts), total, ids)


# --------------------------------------------------------------------------- the loader's side


class ConverterPool:
    """Worker processes converting chunks; :meth:`chunks` yields them in rowid order."""

    def __init__(self, backup: Path, workers: int) -> None:
        self.backup = str(backup)
        self.workers = workers
        context = multiprocessing.get_context("fork")
        self._pool: Pool | None = context.Pool(workers, initializer=_init_worker)

    def chunks(
        self,
        table: str,
        select: list[str],
        sql_name: str,
        references: dict[str, set[Any]],
        keep_ids: bool,
        ranges: list[tuple[int, int]],
    ) -> Iterator[Chunk]:
        """Converted chunks in order; stops after the first one given up (yielded too)."""
        assert self._pool is not None
        pending: deque[AsyncResult[Chunk]] = deque()
        todo = iter(ranges)

        def submit() -> None:
            nxt = next(todo, None)
            if nxt is not None and self._pool is not None:
                args = (self.backup, table, select, sql_name, references, keep_ids, *nxt)
                pending.append(self._pool.apply_async(_convert_chunk, args))

        for _ in range(2 * self.workers):
            submit()
        while pending:
            chunk = pending.popleft().get()
            yield chunk
            if chunk.data is None:  # chunks still in flight finish unread
                return
            submit()

    def close(self) -> None:
        """Let the chunks in flight (at most two per worker) finish, then the workers exit.

        Not ``Pool.terminate()``: it stops the result handler while a worker may be writing a
        multi-megabyte chunk into the result pipe, holding that pipe's lock, and terminate
        then waits for the same lock to send its sentinel: the run hung after a Ctrl-C or a
        lost connection during a parallel COPY (seen about once in six runs of
        ``tests/migrate/test_parallel.py`` beside another worker's migrations). Waiting costs
        at most the chunks already submitted; a killed run's workers still die with it
        (``PR_SET_PDEATHSIG``).
        """
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
