"""Exact statistics over a cohort read in batches, in memory that does not grow with its size.

The cohort summary (:func:`allpath.sim.cohort.summarise`) reads a Parquet file batch by batch
(:func:`parquet_batches`) instead of loading it whole. Counts and sums stream directly; two
statistics need more care, and both give exactly what the in-memory computation gives:

* :class:`ExactMedian`: ``np.median`` by radix selection on the values' order-preserving 64-bit
  keys. The first pass counts keys by their top 16 bits (65,536 counters); each further pass
  narrows the bin holding the middle rank by 16 more bits, or, once that bin holds at most
  :data:`COLLECT` values, keeps just those and partitions them. Memory: the counters and at
  most :data:`COLLECT` values per middle rank; passes: usually two, at most five.
* :class:`KaplanMeierAt`: the Kaplan-Meier survival at one time ``t``, estimated by lifelines
  from tallies (:func:`allpath.sim.survival.km_at_from_tallies`): it keeps only the distinct
  times up to ``t`` with their deaths and removals, so memory grows with the number of
  distinct event times before ``t`` (16 bytes each), not with the cohort.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq

from allpath.sim.survival import km_at_from_tallies

__all__ = ["BATCH_ROWS", "COLLECT", "ExactMedian", "KaplanMeierAt", "Source", "parquet_batches",
           "table_batches"]

#: Rows per batch read from a Parquet file.
BATCH_ROWS = 65_536
#: A bin with at most this many values is kept and partitioned instead of narrowed further.
COLLECT = 1 << 18

_BITS = 16
_BINS = 1 << _BITS
_SIGN = np.uint64(1 << 63)

Columns = Mapping[str, npt.NDArray[Any]]
#: Batches of the named columns, from the start, each time it is called.
Source = Callable[[Sequence[str]], Iterator[Columns]]


def parquet_batches(path: str | Path, batch_rows: int = BATCH_ROWS) -> Source:
    """A :data:`Source` reading only the asked-for columns of ``path``, ``batch_rows`` at a
    time (nulls in float columns as NaN). One row group at a time, on this thread, without
    pre-buffering: Arrow's default reads several row groups ahead in parallel, which held
    about 50 MB more at a million patients for no gain here."""
    def read(columns: Sequence[str]) -> Iterator[Columns]:
        pf = pq.ParquetFile(str(path), pre_buffer=False)
        try:
            for batch in pf.iter_batches(batch_size=batch_rows, columns=list(columns),
                                         use_threads=False):
                yield {name: batch.column(i).to_numpy(zero_copy_only=False)
                       for i, name in enumerate(batch.schema.names)}
        finally:
            pf.close()
    return read


def table_batches(cols: Columns) -> Source:
    """A :data:`Source` over columns already in memory: one batch."""
    def read(columns: Sequence[str]) -> Iterator[Columns]:
        yield {name: cols[name] for name in columns}
    return read


def _keys(x: npt.NDArray[np.float64]) -> npt.NDArray[np.uint64]:
    """Order-preserving unsigned keys of floats (no NaN): negative values bit-flipped,
    non-negative ones with the sign bit set."""
    u = x.view(np.uint64)
    out: npt.NDArray[np.uint64] = np.where(u & _SIGN, ~u, u | _SIGN)
    return out


def _value(key: int) -> float:
    """The float whose key is ``key`` (inverse of :func:`_keys`)."""
    u = np.uint64(key)
    raw = u ^ _SIGN if u & _SIGN else ~u
    return float(np.array([raw], dtype=np.uint64).view(np.float64)[0])


class _Rank:
    """Selection of the value of rank ``rank`` (0-based) among the finite values."""

    def __init__(self, rank: int) -> None:
        self.rank = rank  # rank within the values whose key starts with prefix
        self.prefix = 0
        self.bits = 0  # leading key bits fixed so far
        self.hist: npt.NDArray[np.int64] | None = None
        self.kept: list[npt.NDArray[np.float64]] | None = None
        self.value: float | None = None

    def start_pass(self) -> None:
        if self.kept is None:
            self.hist = np.zeros(_BINS, np.int64)

    def feed(self, x: npt.NDArray[np.float64], k: npt.NDArray[np.uint64]) -> None:
        if self.bits:
            match = (k >> np.uint64(64 - self.bits)) == np.uint64(self.prefix)
            x, k = x[match], k[match]
        if self.kept is not None:
            self.kept.append(x)
        else:
            assert self.hist is not None
            digit = (k >> np.uint64(64 - self.bits - _BITS)) & np.uint64(_BINS - 1)
            self.hist += np.bincount(digit.astype(np.intp), minlength=_BINS)

    def end_pass(self) -> None:
        if self.kept is not None:
            vals = np.concatenate(self.kept)
            self.value = float(np.partition(vals, self.rank)[self.rank])
            self.kept = None
            return
        assert self.hist is not None
        cum = np.cumsum(self.hist)
        digit = int(np.searchsorted(cum, self.rank, side="right"))
        below = int(cum[digit - 1]) if digit else 0
        count = int(self.hist[digit])
        self.hist = None
        self.rank -= below
        self.prefix = (self.prefix << _BITS) | digit
        self.bits += _BITS
        if self.bits == 64:  # every value in the bin has this key
            self.value = _value(self.prefix)
        elif count <= COLLECT:
            self.kept = []


class ExactMedian:
    """``np.median`` of a stream of values (NaN if any value is NaN or there is none).

    Feed every value with :meth:`add` in a pass, then call :meth:`end_pass`; repeat the same
    stream while :attr:`done` is false.
    """

    def __init__(self) -> None:
        self.n = 0
        self.nan = 0
        self._ranks: list[_Rank] | None = None
        self._first = np.zeros(_BINS, np.int64)
        self._result: float | None = None

    @property
    def done(self) -> bool:
        return self._result is not None

    def add(self, values: npt.ArrayLike) -> None:
        x = np.asarray(values, dtype=np.float64).ravel()
        if self._result is not None:
            return
        nan = np.isnan(x)
        if nan.any():
            if self._ranks is None:
                self.nan += int(nan.sum())
            x = x[~nan]
        k = _keys(np.ascontiguousarray(x))
        if self._ranks is None:
            self.n += int(x.size)
            self._first += np.bincount((k >> np.uint64(64 - _BITS)).astype(np.intp),
                                       minlength=_BINS)
            return
        for r in self._ranks:
            if r.value is None:
                r.feed(x, k)

    def end_pass(self) -> None:
        if self._result is not None:
            return
        if self._ranks is None:
            if self.nan or not self.n:
                self._result = float("nan")
                return
            lo, hi = (self.n - 1) // 2, self.n // 2
            self._ranks = [_Rank(lo)] if lo == hi else [_Rank(lo), _Rank(hi)]
            for r in self._ranks:
                r.hist = self._first
                r.end_pass()
            del self._first
        else:
            for r in self._ranks:
                if r.value is None:
                    r.end_pass()
        if all(r.value is not None for r in self._ranks):
            vals = [r.value for r in self._ranks]
            self._result = float(np.mean(np.array(vals, dtype=np.float64)))
        else:
            for r in self._ranks:
                if r.value is None:
                    r.start_pass()

    @property
    def value(self) -> float:
        if self._result is None:
            raise RuntimeError("median not settled yet: feed the values again")
        return self._result


class KaplanMeierAt:
    """Kaplan-Meier survival at time ``t`` of subjects fed in chunks: the chunks are tallied
    (removed and events per distinct time up to ``t``) and the estimate is lifelines' on the
    tallies (:func:`allpath.sim.survival.km_at_from_tallies`); NaN for no subjects."""

    def __init__(self, t: float) -> None:
        self.t = t
        self.n = 0
        self._times: list[npt.NDArray[np.float64]] = []
        self._removed: list[npt.NDArray[np.int64]] = []
        self._deaths: list[npt.NDArray[np.int64]] = []
        self._held = 0
        self._compact_at = 4096

    def add(self, durations: npt.ArrayLike, observed: npt.ArrayLike) -> None:
        time = np.asarray(durations, dtype=np.float64).ravel()
        event = np.asarray(observed, dtype=bool).ravel()
        self.n += int(time.size)
        early = time <= self.t
        if not early.any():
            return
        uniq, inv = np.unique(time[early], return_inverse=True)
        self._times.append(uniq)
        self._removed.append(np.bincount(inv, minlength=uniq.size).astype(np.int64))
        self._deaths.append(np.bincount(inv, weights=event[early],
                                        minlength=uniq.size).astype(np.int64))
        self._held += int(uniq.size)
        if self._held > self._compact_at:
            self._compact()
            self._compact_at = max(4096, 2 * self._held)

    def _compact(self) -> None:
        if len(self._times) <= 1:
            return
        times = np.concatenate(self._times)
        uniq, inv = np.unique(times, return_inverse=True)
        removed = np.bincount(inv, weights=np.concatenate(self._removed), minlength=uniq.size)
        deaths = np.bincount(inv, weights=np.concatenate(self._deaths), minlength=uniq.size)
        self._times = [uniq]
        self._removed = [removed.astype(np.int64)]
        self._deaths = [deaths.astype(np.int64)]
        self._held = int(uniq.size)

    @property
    def value(self) -> float:
        if not self.n:
            return float("nan")
        self._compact()
        if not self._times:
            return 1.0
        return km_at_from_tallies(self._times[0], self._removed[0], self._deaths[0], self.n,
                                  self.t)
