"""The embedded local runtime: runs the pack's Windmill scripts and flows on a bare machine."""
