"""The github-actions tool has no runner: a workflow runs in the application's repository, on its events."""

from __future__ import annotations

from f.fractal.tools.norun import refuse

preflight, execute = refuse("commit the workflow to the application's repository (.github/workflows/); "
                            "GitHub runs it on each pull request")
