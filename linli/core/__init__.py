"""The community's rules, free of any platform: no telegram, aiosqlite, apscheduler or jinja2."""
