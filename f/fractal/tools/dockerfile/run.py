"""The dockerfile tool has no runner: a run is refused before anything executes, with what to do instead."""

from __future__ import annotations

from f.fractal.tools.norun import refuse

preflight, execute = refuse("apply the patches in the application's repository (git apply, in file-name order) and let CI build")
