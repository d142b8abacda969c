"""Dask cluster plumbing shared by ``allpath screen`` and ``allpath simulate cohort``.

* :func:`open_client` connects to a scheduler within a connect timeout (``--connect-timeout``,
  environment variable ``ALLPATH_CONNECT_TIMEOUT``, default :data:`DEFAULT_CONNECT_TIMEOUT`
  seconds) or starts a local cluster, and turns a wrong, closed or foreign address into one
  readable :class:`ClusterError` instead of a traceback.
* :func:`describe_cluster` is the line printed at the start of a run: scheduler address, number
  of workers and threads, and the dashboard link when the scheduler serves one.
* :func:`run_ordered` submits tasks with a bounded number in flight, reports each one as it
  finishes (``as_completed``, for progress) and yields the results in submission order (for
  writing). Every task carries its own inputs, so Dask can always recompute it; a task that is
  cancelled because the workers restarted (``client.restart()``, rolling restarts, a nanny
  restarting a killed worker) is submitted again, and a lost scheduler ends the run with a short
  :class:`ClusterError`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from allpath.errors import AllPathError

__all__ = [
    "CONNECT_TIMEOUT_ENV",
    "DEFAULT_CONNECT_TIMEOUT",
    "MAX_RESUBMITS",
    "ClusterError",
    "Task",
    "connect",
    "connect_timeout",
    "describe_cluster",
    "open_client",
    "run_ordered",
]

#: Seconds to wait for a scheduler to answer before giving up (Dask's own default is 30 s).
DEFAULT_CONNECT_TIMEOUT = 5.0
#: Environment variable that overrides :data:`DEFAULT_CONNECT_TIMEOUT`.
CONNECT_TIMEOUT_ENV = "ALLPATH_CONNECT_TIMEOUT"
#: How many times one task is submitted again after the cluster cancelled it.
MAX_RESUBMITS = 3
# How long a run waits with tasks outstanding and no worker on the cluster (workers restarted
# and not back, all killed) before it stops with an error instead of waiting for ever. A
# nanny restarting a worker on a busy machine can take a minute or two.
WORKERLESS_WAIT_S = 300.0

_LOST = "scheduler-connection-lost"


class ClusterError(AllPathError):
    """The Dask cluster could not be reached or was lost; the message says what to do."""


def connect_timeout(value: float | None = None) -> float:
    """The connect timeout in seconds: ``value``, else ``$ALLPATH_CONNECT_TIMEOUT``, else
    :data:`DEFAULT_CONNECT_TIMEOUT`. Must be a positive finite number."""
    source = "connect timeout"
    if value is None:
        raw = os.environ.get(CONNECT_TIMEOUT_ENV)
        if raw is None or not raw.strip():
            return DEFAULT_CONNECT_TIMEOUT
        source = CONNECT_TIMEOUT_ENV
        try:
            value = float(raw)
        except ValueError:
            raise ClusterError(f"{CONNECT_TIMEOUT_ENV}: expected a number of seconds, got "
                               f"{raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ClusterError(f"{source}: expected a positive number of seconds, got {value!r}")
    return float(value)


def connect(address: str, timeout: float) -> Any:
    """A ``distributed.Client`` connected to the scheduler at ``address`` within ``timeout``
    seconds, or a :class:`ClusterError` naming the address and what to check."""
    from distributed import Client

    what_to_do = ("Check that the scheduler is running (`dask scheduler` prints its address, "
                  "e.g. tcp://10.0.0.5:8786), that the address and port are right and that "
                  "this machine can reach it; for a slow network raise --connect-timeout "
                  f"(or {CONNECT_TIMEOUT_ENV}). To run without a cluster, drop --scheduler.")
    try:
        _check_address(address)
    except ValueError as err:  # checked first: a Client half made from it hangs on exit
        raise ClusterError(f"{address!r} is not a Dask scheduler address ({err}); give it as "
                           f"tcp://HOST:PORT. {what_to_do}") from None
    try:
        kind = _identify(address, timeout)
        if kind != "Scheduler":
            raise ClusterError(f"{address} is a Dask {kind.lower() or 'service'}, not the "
                               "scheduler; "
                               f"give the scheduler's address. {what_to_do}")
        return Client(address, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
    except MemoryError:  # a frame length read from a server that is not a Dask scheduler
        raise ClusterError(f"something answered at {address}, but it is not a Dask scheduler "
                           "(the dashboard port, usually 8787, is not the scheduler port, "
                           f"usually 8786). {what_to_do}") from None
    except (OSError, TimeoutError):  # refused, unreachable, unresolvable: Dask retries, then
        raise ClusterError(f"could not connect to the Dask scheduler at {address} within "
                           f"{timeout:g} s. {what_to_do}") from None


def _check_address(address: str) -> None:
    """Raise ValueError for an address Dask cannot parse (unknown scheme, missing or bad
    port); resolves no host name."""
    from distributed.comm.addressing import parse_address
    from distributed.comm.registry import get_backend

    scheme, location = parse_address(address)
    backend: Any = get_backend(scheme)
    if scheme in ("tcp", "tls"):
        backend.get_address_host_port(location)


def _identify(address: str, timeout: float) -> str:
    """Connect to ``address`` on a private event loop and ask what answers (``Scheduler``,
    ``Worker``, ...), so that a failure leaves no half-made client behind (whose clean-up
    would hang at exit and print a traceback)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm.core import connect as open_comm

    async def ask() -> Any:
        comm: Any = await open_comm(address, timeout=timeout)  # type: ignore[no-untyped-call]
        try:
            await comm.write({"op": "identity", "reply": True})
            return await asyncio.wait_for(comm.read(), timeout)
        finally:
            comm.abort()

    # on a thread of its own: the caller may run an event loop (a notebook), where
    # asyncio.run would refuse to start; TimeoutError when it connects but says nothing
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="allpath-probe") as pool:
        answer = pool.submit(asyncio.run, ask()).result()
    return str(answer.get("type", "")) if isinstance(answer, dict) else ""


@contextmanager
def open_client(scheduler: Any = None, *, timeout: float | None = None, n_workers: int = 2,
                announce: Callable[[str], None] | None = None) -> Iterator[Any]:
    """A client for a run: ``scheduler`` is a ``distributed.Client`` (used as is, not
    closed), an address (connected within :func:`connect_timeout` ``(timeout)``), or None for a
    local cluster of ``n_workers`` single-threaded worker processes on 127.0.0.1 (closed
    afterwards). ``announce`` receives :func:`describe_cluster`'s line."""
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        if announce is not None:
            announce(describe_cluster(scheduler))
        yield scheduler
        return
    cluster: Any = None
    if scheduler is None:
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None)
        client = Client(cluster, set_as_default=False)  # type: ignore[no-untyped-call]
    else:
        client = connect(str(scheduler), connect_timeout(timeout))
    try:
        if announce is not None:
            announce(describe_cluster(client))
        yield client
    finally:
        _quiet_close(client, cluster)


def _quiet_close(client: Any, cluster: Any) -> None:
    """Close the client (and our own cluster). After a lost scheduler the client is already
    closing; its log lines about the lost connection say nothing the error does not."""
    import logging

    lost = client.status not in ("running", "newly-created")
    loggers = [logging.getLogger(name) for name in ("distributed.client",
                                                    "distributed.batched")]
    levels = [lg.level for lg in loggers]
    if lost:
        for lg in loggers:
            lg.setLevel(logging.CRITICAL)
    try:
        if lost:
            with suppress(TimeoutError, OSError):  # already cut off: the run's error says so
                client.close(timeout=2)
        else:
            client.close()
        if cluster is not None:
            cluster.close()
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def dashboard_link(client: Any) -> str | None:
    """The scheduler's dashboard URL when it serves one, else None.

    A scheduler started with ``--no-dashboard`` still lists an HTTP port (for health checks
    and metrics) but answers 404 at ``/status``, so the page is asked for, with a one-second
    limit. A dashboard that does not answer from here is still named (a firewall may stand
    between this machine and the page only)."""
    import urllib.error
    import urllib.request

    from distributed.utils import format_dashboard_link

    info = client.scheduler_info(n_workers=0)
    port = info.get("services", {}).get("dashboard")
    if port is None:
        return None
    address = str(client.scheduler.address)
    protocol, _, rest = address.partition("://")
    host = "localhost" if protocol == "inproc" else rest.rsplit(":", 1)[0]
    link = str(format_dashboard_link(host, port))  # type: ignore[no-untyped-call]
    try:
        with urllib.request.urlopen(link, timeout=1.0):
            return link
    except urllib.error.HTTPError as err:
        return None if err.code == 404 else link
    except OSError:  # no answer from here: name it anyway
        return link


def describe_cluster(client: Any) -> str:
    """``Dask scheduler tcp://...: 2 workers, 2 threads; dashboard http://.../status`` (or
    ``no dashboard``, or a note that no worker is connected yet)."""
    nthreads: dict[str, int] = client.nthreads()
    workers, threads = len(nthreads), sum(nthreads.values())
    link = dashboard_link(client)
    text = (f"Dask scheduler {client.scheduler.address}: {workers} worker"
            f"{'' if workers == 1 else 's'}, {threads} thread{'' if threads == 1 else 's'}; "
            + (f"dashboard {link}" if link else "no dashboard served"))
    if not workers:
        text += " (no workers connected yet: tasks wait until one joins)"
    return text


@dataclass(frozen=True)
class Task:
    """One unit of work: ``fn(*args)`` on a worker. Everything it needs travels in ``args``,
    so the scheduler can run it again on any worker at any time. ``size`` is its weight for
    progress (rows, patients); ``label`` names it in messages (a part file, a patient range)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    size: int
    label: str


def run_ordered(client: Any, tasks: Sequence[Task], *, window: int | None = None,
                on_finished: Callable[[Task], None] | None = None,
                notify: Callable[[str], None] | None = None,
                max_resubmits: int = MAX_RESUBMITS,
                workerless_wait_s: float = WORKERLESS_WAIT_S) -> Iterator[Any]:
    """Run ``tasks`` on the cluster; yield their results in order.

    At most ``window`` tasks (default two per worker thread) are submitted and not yet yielded,
    so the client holds at most that many results. ``on_finished`` is called as each task
    finishes, in whatever order they finish. A task the cluster cancels (workers restarted) is
    submitted again, up to ``max_resubmits`` times, with a line to ``notify``; a task whose
    workers keep dying (``KilledWorker``) or a lost scheduler raises :class:`ClusterError`;
    an error raised by a task itself propagates unchanged. A cluster left without any worker
    for ``workerless_wait_s`` seconds while tasks are outstanding raises :class:`ClusterError`
    too (never a run that waits for ever).
    """
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    if window is None:
        window = 2 * max(sum(client.nthreads().values()), 1)
    window = max(window, 1)
    address = str(client.scheduler.address)
    pending: dict[str, tuple[int, Any]] = {}  # future key -> (task index, future)
    tries = [0] * len(tasks)
    done: dict[int, Any] = {}
    submitted = finished = nxt = 0
    ac: Any = as_completed(loop=client.loop)  # type: ignore[no-untyped-call]

    def submit(i: int) -> None:
        task = tasks[i]
        fut = client.submit(task.fn, *task.args, pure=False)
        pending[fut.key] = (i, fut)
        ac.add(fut)

    def fill() -> None:
        nonlocal submitted
        while submitted < len(tasks) and submitted - nxt < window:
            submit(submitted)
            submitted += 1

    def connected() -> bool:
        return client.status in ("running", "newly-created")

    def lost() -> ClusterError:
        return ClusterError(
            f"lost the connection to the Dask scheduler at {address} after {finished} of "
            f"{len(tasks)} tasks; nothing was written (an earlier output file of the same name "
            "is unchanged). Check that the scheduler is still running and run the command "
            "again.")

    def workers() -> int:
        return len(client.scheduler_info().get("workers", {}))  # refreshed by the client

    def next_finished() -> Any:
        """The next finished future; waits while workers are present, and at most
        ``workerless_wait_s`` seconds in a row while the cluster has none."""
        since: float | None = None
        while not ac.has_ready() and not ac.is_empty():
            if not connected():
                raise lost()
            if workers() > 0:
                since = None
            elif since is None:
                since = time.monotonic()
            elif time.monotonic() - since > workerless_wait_s:
                raise ClusterError(
                    f"the Dask cluster at {address} has had no worker for "
                    f"{workerless_wait_s:.0f} s with {len(pending)} task(s) outstanding "
                    f"after {finished} of {len(tasks)}; nothing was written (an earlier output "
                    "file of the same name is unchanged). Start workers (or check why they "
                    "stopped) and run the command again.")
            time.sleep(0.05)
        return next(ac)

    ok = False
    try:
        fill()
        while nxt < len(tasks):
            try:
                fut = next_finished()
            except StopIteration:  # nothing in flight but results missing: cluster gone
                raise lost() from None
            i, _ = pending.pop(fut.key)
            task = tasks[i]
            try:
                result = fut.result()
            except FutureCancelledError as err:
                if err.reason == _LOST or not connected():
                    raise lost() from None
                if tries[i] >= max_resubmits:
                    raise ClusterError(
                        f"{task.label}: cancelled by the cluster {tries[i] + 1} times "
                        f"({err.reason}); the workers keep restarting. Check the worker logs "
                        "(memory limits, crashes) and run the command again.") from None
                tries[i] += 1
                if notify is not None:
                    notify(f"{task.label}: cancelled by the cluster ({err.reason}; workers "
                           f"restarted?), submitted again ({tries[i]} of {max_resubmits})")
                submit(i)
                continue
            except OSError:  # the connection broke while the result was fetched
                if not connected():
                    raise lost() from None
                raise
            except KilledWorker:
                raise ClusterError(
                    f"{task.label}: the workers running it died repeatedly (out of memory? "
                    "killed?), so the scheduler gave up on it. Check the worker logs and "
                    "memory limits (smaller chunks or parts need less memory) and run the "
                    "command again.") from None
            fut.release()
            finished += 1
            if on_finished is not None:
                on_finished(task)
            done[i] = result
            while nxt in done:
                yield done.pop(nxt)
                nxt += 1
                fill()
        ok = True
    finally:
        if not ok and pending and connected():  # stop the rest of a failed run
            client.cancel([f for _, f in pending.values()])
        pending.clear()
        ac.clear()
