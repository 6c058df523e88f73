"""Prometheus metrics of the local server (prometheus_client, one registry per server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import f.fractal.learning.ledger as learning_ledger
import f.fractal.platform.workspace as workspace
from fractal_local.jobs import Job, Jobs


def _outbox_entries() -> int:
    """Saves kept aside for unreachable targets, waiting for sync_catalog (local workspace cache)."""
    return sum(1 for _ in (workspace.home() / "cache" / "outbox").glob("*/*.json"))


class LearningLoop(Collector):
    """The learning loop's counts, read from its ledger at each scrape (so the CLI's submissions count too)."""

    def collect(self) -> Iterator[Metric]:
        stats = learning_ledger.stats()
        yield CounterMetricFamily("fractal_learning_pairs_received", "Task/solution pairs submitted", value=stats["received"])
        rejected = CounterMetricFamily("fractal_learning_pairs_rejected", "Pairs refused, by reason", labels=["reason"])
        for reason, n in sorted(stats["rejected"].items()):
            rejected.add_metric([reason], n)
        yield rejected
        templates = GaugeMetricFamily("fractal_learning_templates", "Templates learned, by kind (rune, orb)", labels=["kind"])
        for kind in ("rune", "orb"):
            templates.add_metric([kind], stats["templates"].get(kind, 0))
        yield templates
        uses = CounterMetricFamily("fractal_learning_uses", "Runs of drafts made from a template, by status", labels=["status"])
        for status in learning_ledger.OUTCOMES:
            uses.add_metric([status], stats["uses"].get(status, 0))
        yield uses


class Metrics:
    def __init__(self, jobs: Jobs) -> None:
        self.registry = r = CollectorRegistry()
        self.jobs_total = Counter("fractal_jobs", "Jobs finished, by script and status", ["script", "status"], registry=r)
        self.duration = Histogram("fractal_job_duration_seconds", "Job run time, by script", ["script"], registry=r,
                                  buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900))
        self.saves = Counter("fractal_catalog_saves", "Catalog saves, by target outcome", ["status"], registry=r)
        self.llm_attempts = Counter("fractal_llm_attempts", "LLM answers tried by generation, by script", ["script"],
                                    registry=r)
        self.requests = Counter("fractal_http_requests", "HTTP requests, by method and status code", ["method", "code"],
                                registry=r)
        Gauge("fractal_jobs_running", "Jobs running now", registry=r).set_function(
            lambda: sum(1 for j in jobs.live.values() if j.status == "running"))
        Gauge("fractal_jobs_queued", "Jobs waiting for a slot", registry=r).set_function(
            lambda: sum(1 for j in jobs.live.values() if j.status == "queued"))
        Gauge("fractal_outbox_pending", "Saves waiting in the outbox for an unreachable target", registry=r).set_function(
            _outbox_entries)
        r.register(LearningLoop())
        self.content_type = CONTENT_TYPE_LATEST

    def job_done(self, job: Job) -> None:
        script = job.path.rsplit("/", 1)[-1]
        self.jobs_total.labels(script, job.status).inc()
        if job.started_at and job.ended_at:
            self.duration.labels(script).observe(job.ended_at - job.started_at)
        result: Any = job.result if isinstance(job.result, dict) else {}
        if script == "save_item":
            for target in result.get("targets") or [{"status": job.status}]:
                self.saves.labels(str(target.get("status", job.status))).inc()
        if isinstance(result.get("attempts"), list):
            self.llm_attempts.labels(script).inc(len(result["attempts"]))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """An ASGI middleware counting requests by method and status."""

        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return

            async def watch(message: Message) -> None:
                if message["type"] == "http.response.start":
                    self.requests.labels(scope["method"], str(message["status"])).inc()
                await send(message)

            await app(scope, receive, watch)

        return counted
