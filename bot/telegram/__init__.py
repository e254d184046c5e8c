"""The Telegram front: handlers, the texts and buttons they send, the charts sent to chats, and the
wiring of the python-telegram-bot Application (application.py)."""
