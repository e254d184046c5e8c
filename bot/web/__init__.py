"""The consultants' web dashboard (templates/), its chart, and the webhook endpoint Telegram posts to."""
