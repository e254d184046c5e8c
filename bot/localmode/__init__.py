"""Local mode: the Telegram Bot API emulator and the chat page (static/) that stands in for the app."""
