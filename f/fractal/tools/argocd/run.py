"""Argo CD Applications are Kubernetes objects: a run applies them with the Kubernetes runner (kubectl,
server-side), each into the namespace it names (argocd)."""

from __future__ import annotations

from f.fractal.tools.kubernetes.run import execute, preflight

__all__ = ["execute", "preflight"]
