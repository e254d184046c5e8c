"""In and out through SQLite: the durable inbox and its dispatcher, the outbox sender, and the Bot API
transport (aiohttp) both use."""
