"""SQLite: one module per feature, raw parameterised SQL, rows -> core dataclasses (db.py:
statements on the event loop's connection, long reads in aiosqlite's thread)."""
