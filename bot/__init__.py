"""The application: configuration, storage, the Telegram front and the web server."""
