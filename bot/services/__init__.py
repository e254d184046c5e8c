"""The services the handlers, the dashboard and the jobs call: learning (quizzes, progress, daily pushes),
campaigns (cohorts, campaign questions, results) and the knowledge base. No Telegram, no HTTP, no SQL."""
