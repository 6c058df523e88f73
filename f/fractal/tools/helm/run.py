"""The helm tool has no runner: a run is refused before anything executes, with what to do instead."""

from __future__ import annotations

from f.fractal.tools.norun import refuse

preflight, execute = refuse("Argo CD renders the chart: run the argocd entity whose Applications point at it")
