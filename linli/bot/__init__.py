"""The Telegram adapter: config, CLI, wiring, keyboards, rendering, handlers and jobs."""
