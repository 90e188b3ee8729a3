"""The process's Prometheus metrics, and their exposition (single or multi process).

Pure: prometheus-client and the standard library only, so services, jobs and views all
count at their own choke point. With `PROMETHEUS_MULTIPROC_DIR` set (before the process
starts), every web and worker process writes its samples to files there and a scrape of
any web process adds them all up; unset, each process keeps its own registry in memory
(right for `make run`, one process). Metrics read at scrape time (queue depths, inbound
backlog) come from `collect`, handed to `exposition` as extra collectors.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

# The directory must exist before the first sample is written (prometheus-client opens
# its files lazily and fails on a missing folder).
MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
if MULTIPROC_DIR:
    os.makedirs(MULTIPROC_DIR, exist_ok=True)
else:
    # Set but empty (a copied .env.example): prometheus-client would still switch to
    # multiprocess mode, writing into the working directory.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

from prometheus_client import (  # noqa: E402 - after the directory exists
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

#: Latency buckets (seconds) of requests, jobs and provider calls.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
#: Buckets (seconds) of the inbound lag, receipt to stored: a backlog shows in minutes.
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)

HTTP_REQUESTS = Counter(
    "whaticket_http_requests_total",
    "HTTP requests answered, by route (the URL rule), method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "whaticket_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (the URL rule) and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
SOCKET_CONNECTIONS = Gauge(
    "whaticket_socket_connections",
    "Open Socket.IO connections (signed-in sockets), summed over live processes.",
    multiprocess_mode="livesum",
)
JOB_DURATION = Histogram(
    "whaticket_job_duration_seconds",
    "Time a background job ran, by job name (a stored job by its own name).",
    ["job"],
    buckets=LATENCY_BUCKETS,
)
JOB_FAILURES = Counter(
    "whaticket_job_failures_total", "Background jobs that raised, by job name.", ["job"]
)
INBOUND_LAG = Histogram(
    "whaticket_inbound_lag_seconds",
    "Time from a webhook delivery's receipt to its events being stored (done or refused).",
    buckets=LAG_BUCKETS,
)
PROVIDER_SEND_LATENCY = Histogram(
    "whaticket_provider_send_duration_seconds",
    "Time of one send call to a WhatsApp provider, by provider.",
    ["provider"],
    buckets=LATENCY_BUCKETS,
)
PROVIDER_SEND_ERRORS = Counter(
    "whaticket_provider_send_errors_total",
    "Send calls a WhatsApp provider refused or failed, by provider and error code.",
    ["provider", "code"],
)
CAMPAIGN_SENDS = Counter(
    "whaticket_campaign_sends_total",
    "Campaign contacts handled by a dispatcher, by outcome (sent, asked, retry, failed, "
    "paused, skipped); rate() of outcome=sent is the sends per second.",
    ["outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "whaticket_webhook_deliveries_total",
    "Company webhook delivery attempts, by outcome (succeeded, retry, failed).",
    ["outcome"],
)

#: The job name a stored job's runner is known by: its runs are counted by their own name.
PENDING_RUNNER = "pending.run"


def job_label(func: Any) -> str:
    """A job's name as `jobs.job` resolves it ("campaigns.dispatch"), else its qualname."""
    module = str(getattr(func, "__module__", "") or "")
    name = str(getattr(func, "__name__", func))
    if module.startswith("whaticket.jobs."):
        return f"{module[len('whaticket.jobs.') :]}.{name}"
    return f"{module}.{name}" if module else name


@contextmanager
def job_run(name: str) -> Iterator[None]:
    """Time one job run; a run that raises counts as a failure (and still raises)."""
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        JOB_FAILURES.labels(name).inc()
        raise
    finally:
        JOB_DURATION.labels(name).observe(time.perf_counter() - started)


def observe_job(name: str, seconds: float, ok: bool) -> None:
    """Record one job run that was timed elsewhere (RQ's worker)."""
    JOB_DURATION.labels(name).observe(seconds)
    if not ok:
        JOB_FAILURES.labels(name).inc()


@contextmanager
def provider_send(provider: str) -> Iterator[None]:
    """Time one provider send; an exception counts as an error, by its `code` attribute
    (GatewayError's ERR_ code) or its class name, and is raised again."""
    started = time.perf_counter()
    try:
        yield
    except NotImplementedError:
        raise  # "this provider has no such widget": the caller falls back, not an error
    except Exception as exc:
        code = str(getattr(exc, "code", "") or type(exc).__name__)[:64]
        PROVIDER_SEND_ERRORS.labels(provider, code).inc()
        raise
    finally:
        PROVIDER_SEND_LATENCY.labels(provider).observe(time.perf_counter() - started)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Record one answered HTTP request."""
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_LATENCY.labels(route, method).observe(seconds)


def multiprocess_enabled() -> bool:
    """Whether samples go to PROMETHEUS_MULTIPROC_DIR (several processes add up)."""
    return MULTIPROC_DIR is not None


def mark_process_dead(pid: int | None = None) -> None:
    """Drop a finished process's live gauges (socket connections) from the sum."""
    if MULTIPROC_DIR:
        multiprocess.mark_process_dead(pid or os.getpid(), MULTIPROC_DIR)


class _Chain:
    """Adapts a registry into a collector of another one."""

    def __init__(self, source: CollectorRegistry) -> None:
        self._source = source

    def collect(self) -> Iterable[Any]:
        """The source registry's metric families."""
        return self._source.collect()


def exposition(extra: Iterable[Any] = ()) -> tuple[bytes, str]:
    """The text a scrape answers, and its content type: every process's samples (or this
    one's), plus the `extra` collectors' (read now)."""
    registry = CollectorRegistry()
    if MULTIPROC_DIR:
        multiprocess.MultiProcessCollector(registry, path=MULTIPROC_DIR)
    else:
        registry.register(_Chain(REGISTRY))  # type: ignore[arg-type]
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST
