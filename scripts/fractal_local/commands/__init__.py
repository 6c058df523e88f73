"""CLI subcommands, one module per area (catalog, generate, run, compose, serve)."""
