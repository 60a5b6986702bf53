"""SQLite through aiosqlite: one module per feature, raw parameterised SQL, rows -> core dataclasses."""
