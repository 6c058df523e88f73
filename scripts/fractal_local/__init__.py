"""The embedded local runtime: runs the pack's Windmill scripts and flows on a bare machine."""

__version__ = "0.13.0"
