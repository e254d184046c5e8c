"""The command line: `python run_bot.py [run|ask|check|backup] ...`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections import Counter
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.storage import DatabaseRefused, Storage

DESCRIPTION = """\
Forvaltningsassistenten: a Telegram bot that answers questions on good administration and
political servicing in Danish municipalities, and runs spaced micro-quizzes.

Modes:
  run (default)   Run the bot. With TELEGRAM_BOT_TOKEN it serves Telegram by long polling, or by
                  webhook when WEBHOOK_URL is set. Without a token it runs LOCAL MODE: the same bot
                  behind the built-in Bot API emulator, with a chat page at http://127.0.0.1:8080/.
  ask "..."       Print the answer exactly as the bot would send it, buttons included.
  check           Validate knowledge/ (articles and the draft checklists in knowledge/checks/) and
                  quizzes/; exit 1 with a list of problems.
  backup PATH     Write a consistent copy of the live database to PATH.
  consultant add|list|remove NAME
                  Manage consultant logins for the web dashboard at /dashboard/.

Settings come from the environment or a .env file: TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL, BOT_DB,
BOT_TIMEZONE, EMBEDDING_MODEL, WEBHOOK_URL, WEBHOOK_SECRET, HTTP_HOST, HTTP_PORT (see README.md).
"""


PROJECT_ENV = Path(__file__).resolve().parent.parent / ".env"


def env_file() -> Path:
    """`.env` in the working directory, else the one in the project folder (where README puts it), so
    that every mode reads the same settings wherever it is started from."""
    local = Path(".env")
    return local if local.is_file() else PROJECT_ENV


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_bot.py", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="MODE")
    commands.add_parser("run", help="run the bot (the default)", description="Run the bot: Telegram "
                        "with a token (polling or webhook), local mode without one.")
    ask = commands.add_parser("ask", help="print the answer to a question as the bot would send it",
                              description="Print the answer exactly as the bot would send it.")
    ask.add_argument("question", help="the question, in quotes")
    commands.add_parser("check", help="validate knowledge/ and quizzes/",
                        description="Validate the articles and the quiz bank; exit 1 on problems.")
    backup = commands.add_parser("backup", help="copy the live database consistently",
                                 description="Write a consistent online backup of BOT_DB to PATH. "
                                 "Restore by stopping the bot and copying the file back to BOT_DB.")
    backup.add_argument("path", type=Path, help="where to write the copy")
    consultant = commands.add_parser("consultant", help="manage consultant logins for the dashboard",
                                     description="Create, list or remove consultant logins for the web dashboard.")
    actions = consultant.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="create a login (asks for the password)",
                             description="Create a consultant login. The password is asked for twice, or read "
                             "from standard input with --password-stdin; at least 10 characters.")
    add.add_argument("name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    actions.add_parser("list", help="list the logins")
    remove = actions.add_parser("remove", help="remove a login (and its cohorts and campaigns)")
    remove.add_argument("name")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    if command == "check":
        return run_check()
    try:
        settings = load_settings(env_file=env_file())
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    try:
        if command == "backup":
            return run_backup(settings, args.path)
        if command == "ask":
            return run_ask(settings, args.question)
        if command == "consultant":
            return run_consultant(settings, args)
        return run_bot(settings)
    except DatabaseRefused as error:
        print(f"Database refused: {error}", file=sys.stderr)
        return 3


def run_bot(settings: Settings) -> int:
    from bot.runner import configure_logging, serve

    configure_logging()
    asyncio.run(serve(settings))
    return 0


def run_check() -> int:
    from knowledge.articles import load_articles
    from knowledge.drafts.checklists import load_checks
    from knowledge.off_topic import load_off_topics
    from quizzes.bank import load_bank

    articles, problems = load_articles()
    questions, quiz_problems = load_bank(article_ids=[a.id for a in articles])
    off_topics, off_topic_problems = load_off_topics()
    checks, check_problems = load_checks(article_ids={a.id for a in articles})
    problems += quiz_problems + off_topic_problems + check_problems
    per_area = Counter(a.area for a in articles)
    per_area_quiz = Counter(q.area for q in questions)
    print(f"{len(articles)} articles: " + ", ".join(f"{k} {v}" for k, v in sorted(per_area.items())))
    print(f"{len(questions)} quiz questions: " + ", ".join(f"{k} {v}" for k, v in sorted(per_area_quiz.items())))
    print(f"{len(off_topics)} topics outside the knowledge base, "
          f"{sum(len(t.examples) for t in off_topics)} examples")
    print("Draft checklists: " + ", ".join(f"{c.kind} {len(c.items)} items" for c in checks.checklists.values())
          + f", {len(checks.jargon)} jargon terms")
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print("OK")
    return 0


MIN_PASSWORD = 10


def run_consultant(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from bot.services.campaigns import hash_password
    from bot.storage import utc_now
    from bot.web.dashboard import MAX_PASSWORD

    storage = Storage(settings.db_path)
    try:
        if args.action == "list":
            rows = storage.consultants.consultants()
            for row in rows:
                linked = "telegram forbundet" if row["linked"] else "telegram ikke forbundet"
                print(f"{row['name']}\t{row['cohorts']} hold\t{linked}\toprettet {row['created_at'][:10]}")
            if not rows:
                print("No consultants yet: python run_bot.py consultant add NAME")
            return 0
        if args.action == "remove":
            if not storage.consultants.remove_consultant(args.name):
                print(f"No consultant named {args.name!r}.", file=sys.stderr)
                return 1
            print(f"Removed {args.name}.")
            return 0
        name = " ".join(args.name.split())
        if not name or len(name) > 100:
            print("The name must have 1 to 100 characters.", file=sys.stderr)
            return 2
        if storage.consultants.consultant_by_name(name):
            print(f"A consultant named {name!r} exists already.", file=sys.stderr)
            return 1
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        elif not sys.stdin.isatty():
            print("No terminal to ask for the password on. Pipe it in with --password-stdin, e.g.\n"
                  f"  printf '%s\\n' \"$PASSWORD\" | python run_bot.py consultant add {name!r} --password-stdin",
                  file=sys.stderr)
            return 2
        else:
            try:
                password = getpass.getpass("Password: ")
                again = getpass.getpass("Again: ")
            except EOFError:
                print("\nNo password given.", file=sys.stderr)
                return 2
            if again != password:
                print("The passwords differ.", file=sys.stderr)
                return 2
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            print(f"The password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters.", file=sys.stderr)
            return 2
        storage.consultants.add_consultant(name, hash_password(password), utc_now())
        host = "127.0.0.1" if settings.local_mode else settings.http_host  # local mode binds to loopback
        print(f"Created {name}. Log in at http://{host}:{settings.http_port}/dashboard/")
        return 0
    finally:
        storage.close()


def run_backup(settings: Settings, path: Path) -> int:
    storage = Storage(settings.db_path)
    try:
        storage.backup_to(path)
    finally:
        storage.close()
    print(f"Backup written to {path}")
    return 0


def run_ask(settings: Settings, question: str) -> int:
    """Answer with the same code path as the bot (embeddings cached in BOT_DB)."""
    from bot.services.knowledge import KnowledgeService
    from bot.storage import utc_now
    from bot.telegram.answers import as_plain_text, render_answer
    from quizzes.bank import load_bank

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    storage = Storage(settings.db_path)
    try:
        service = KnowledgeService.load(settings.embedding_model)
        asyncio.run(service.attach_embeddings(storage.embeddings))
        answer = asyncio.run(service.answer(question))
        log_id = None
        if answer.smalltalk is None:
            best = answer.result.best if answer.result else None
            # Logged without a learner, like any question, so 👍/👎 buttons carry a real id.
            log_id = storage.questions.log_question(
                update_id=None, user_id=None, now=utc_now(), question=question,
                article_id=best.article.id if best else None,
                score=answer.result.confidence if answer.result else 0.0, abstained=answer.abstained,
            )
        bank, _ = load_bank(article_ids=service.knowledge.articles)
        quiz_articles = frozenset(a for q in bank for a in q.articles)
        print(as_plain_text(render_answer(service.knowledge, answer, log_id, quiz_articles)))
    finally:
        storage.close()
    return 0
