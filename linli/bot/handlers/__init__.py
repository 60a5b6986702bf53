"""One module per feature; each exposes HANDLERS and COMMANDS."""
