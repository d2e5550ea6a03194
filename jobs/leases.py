"""Leases held by a worker process, renewed by one heartbeat thread.

While a job runs, its lease is renewed every SCORING_HEARTBEAT_SECONDS. A
worker that dies stops renewing; the relay then sees the expired lease and
hands the job to another worker. The heartbeat also carries news back to the
running job: a staff cancel request, or the lease taken over (this worker was
presumed dead), which the job notices at its next checkpoint.
"""

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection

from jobs.models import ScoringJob

logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Staff asked to cancel the job while it ran."""


class LeaseLost(Exception):
    """Another attempt owns the job now; this one must stop without writing."""


@dataclass
class HeldLease:
    job_id: object
    owner: str
    cancelled: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)

    def checkpoint(self) -> None:
        """Called between steps of a run: stop early if cancelled or superseded."""
        if self.lost.is_set():
            raise LeaseLost(f"lease {self.owner} on job {self.job_id} was taken over")
        if self.cancelled.is_set():
            raise JobCancelled(f"job {self.job_id} was cancelled")


class LeaseKeeper:
    def __init__(self) -> None:
        self._held: dict[str, HeldLease] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    @contextmanager
    def hold(self, job_id, owner: str):
        lease = HeldLease(job_id=job_id, owner=owner)
        with self._lock:
            self._held[owner] = lease
            self._ensure_thread()
        try:
            yield lease
        finally:
            with self._lock:
                self._held.pop(owner, None)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(settings.SCORING_HEARTBEAT_SECONDS)
            self._wake.clear()
            try:
                self.beat()
            finally:
                # One short-lived connection per beat: an idle heartbeat holds none.
                connection.close()

    def beat(self) -> None:
        """Renew every held lease in one UPDATE and pass news to the runs."""
        with self._lock:
            held = dict(self._held)
        if not held:
            return
        try:
            ScoringJob.renew_leases(lease_owners=list(held), lease_seconds=settings.SCORING_LEASE_SECONDS)
            rows = ScoringJob.objects.filter(lease_owner__in=list(held), status=ScoringJob.Status.RUNNING)
            current = dict(rows.values_list("lease_owner", "cancel_requested_at"))
        except DatabaseError:
            # The database is away: leases may lapse and the relay may hand
            # the jobs on; finishing is guarded by the lease, so that is safe.
            logger.warning("heartbeat could not renew %d lease(s)", len(held), exc_info=True)
            connection.close()
            return
        for owner, lease in held.items():
            if owner not in current:
                lease.lost.set()
            elif current[owner] is not None:
                lease.cancelled.set()


lease_keeper = LeaseKeeper()
