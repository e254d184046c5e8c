"""Campaign push benchmark: one announcement to N learners (default 10,000) through the emulator.

    .venv/bin/python bench/push.py                    # all three parts, 10,000 learners (~15 min)
    .venv/bin/python bench/push.py --learners 300     # a quick smoke run
    .venv/bin/python bench/push.py --skip-kill --skip-unlimited

Parts:
  limited    the real bot (`python run_bot.py`) sends the announcement; its outbox bot has
             AIORateLimiter at 30 msg/s. Figures: the average and the highest rate in any 1-second
             window, and the total time against the ideal N/30 s (within 5%?).
  unlimited  the outbox pipeline alone: bot.delivery.OutboxSender with an ExtBot without a rate
             limiter drains the N rows (in a child process, so it has a core of its own).
  kill       the real bot is killed with SIGKILL after ~80 s of sending (or 40% of the rows),
             restarted on the same database, and the emulator's chats are counted: every learner
             must get the announcement exactly once.

Rates are taken from the moments the emulator stored each announcement message. Everything talks
to 127.0.0.1 only. The learners choose no push days of their own (weekdays ''), so the daily push
does not add messages; the announcement is due at once.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as run_bot.py does; see the comment there

import argparse
import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.storage import Storage, to_text  # noqa: E402
from tests.support import TEST_TOKEN, BotProcess, EmulatorThread, free_port  # noqa: E402

TEXT = "Husk temadagen om god forvaltning på torsdag kl. 9."
MARK = f"📣 {TEXT}"  # the announcement as the learner sees it (quiz_texts.announcement_message)
FIRST_USER_ID = 200_000
RATE = 30.0  # the outbox bot's AIORateLimiter (bot/runner.py build_outbox_bot)


# -- shared with bench/load.py ---------------------------------------------------------------------

def embedding_template(directory: Path) -> Path:
    """A bot database whose embedding cache holds every passage (as tests/conftest.py makes it), so a
    bot started on a copy has dense search at once instead of encoding for ~40 s. The vectors are
    kept in data/bench-embeddings.sqlite3, as bench/retrieval.py does, so only the first run encodes."""
    from bot.config import default_embedding_model
    from knowledge.answering import KnowledgeBase
    from knowledge.embeddings import make_embedder

    knowledge, _ = KnowledgeBase.load()
    embedder = make_embedder(default_embedding_model())
    cache = Storage(ROOT / "data" / "bench-embeddings.sqlite3")
    known = cache.cached_embeddings(embedder.name, knowledge.unit_hashes())
    fresh = knowledge.attach_embeddings(embedder, known)
    cache.store_embeddings(embedder.name, fresh)
    cache.close()
    path = directory / "template.sqlite3"
    storage = Storage(path)
    storage.store_embeddings(embedder.name, {**known, **fresh})
    storage.close()
    return path


def bot_env(api_url: str, db_path: Path, **extra: str) -> dict[str, str]:
    """The environment for `python run_bot.py` against the emulator (as tests/conftest.py bot_env)."""
    return {"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "TELEGRAM_API_URL": api_url, "BOT_DB": str(db_path),
            "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(free_port()), "HF_HUB_OFFLINE": "1", **extra}


def vm_rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process from /proc/<pid>/status (VmHWM is the peak)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# -- the database and the emulator ----------------------------------------------------------------

def user_ids(count: int) -> range:
    return range(FIRST_USER_ID, FIRST_USER_ID + count)


def fill_database(path: Path, template: Path | None, learners: int, queue: bool = False) -> None:
    """N learners in one cohort and one announcement due now; with `queue`, its outbox rows too."""
    if template is not None:
        shutil.copy(template, path)
    now = datetime.now(UTC)
    storage = Storage(path)
    consultant = storage.add_consultant("Bench-konsulent", "not-a-hash", now)
    cohort = storage.create_cohort(consultant, "Bench-hold", f"bench-{int(time.time())}", now)
    with storage.transaction() as conn:
        conn.executemany(
            "INSERT INTO learners (user_id, chat_id, created_at, last_seen_at, weekdays) VALUES (?, ?, ?, ?, '')",
            [(u, u, to_text(now), to_text(now)) for u in user_ids(learners)])
        conn.executemany("INSERT INTO enrolments (cohort_id, user_id, enrolled_at) VALUES (?, ?, ?)",
                         [(cohort, u, to_text(now)) for u in user_ids(learners)])
    storage.create_announcement(cohort, TEXT, now, now)
    if queue:
        from bot.telegram.quiz_texts import announcement_message

        storage.queue_due_announcements(now, announcement_message)
    storage.close()


def outbox_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        return dict(connection.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status"))


def start_emulator(learners: int) -> tuple[EmulatorThread, list[float], Counter]:
    """An emulator that knows the learners (it answers 'chat not found' otherwise), the list it fills
    with the moment each announcement message arrives, and the count of them per chat."""
    server = EmulatorThread().start()
    emulator = server.emulator

    async def register() -> None:
        for user_id in user_ids(learners):
            emulator.user(user_id)

    server.call(register())
    arrivals: list[float] = []
    per_chat: Counter = Counter()
    original = emulator.api_sendmessage

    async def api_sendmessage(params: dict) -> dict:
        message = await original(params)
        if message.get("text") == MARK:
            arrivals.append(time.monotonic())
            per_chat[message["chat"]["id"]] += 1
        return message

    emulator.api_sendmessage = api_sendmessage  # the emulator looks methods up on the instance
    return server, arrivals, per_chat


def received(server: EmulatorThread) -> Counter:
    """How many times each chat got the announcement, counted in the emulator's chats."""
    async def count() -> Counter:
        return Counter({chat: n for chat, events in list(server.emulator.state.chats.items())
                        if (n := sum(e.sender == "bot" and e.message.get("text") == MARK for e in events))})

    return server.call(count())


def rate_figures(arrivals: list[float]) -> dict[str, float]:
    """Average rate, and the most messages in any 1-second window (sliding), overall and after the
    first 2 s (a leaky-bucket limiter may let one bucket through at once when it starts)."""
    times = sorted(arrivals)
    if len(times) < 2:
        return {"messages": len(times), "seconds": 0.0, "average": 0.0, "max_window": len(times),
                "max_window_steady": len(times)}
    best = best_steady = 0
    end = 0
    for start, moment in enumerate(times):
        while end < len(times) and times[end] < moment + 1.0:
            end += 1
        best = max(best, end - start)
        if moment >= times[0] + 2.0:
            best_steady = max(best_steady, end - start)
    seconds = times[-1] - times[0]
    return {"messages": len(times), "seconds": seconds, "average": (len(times) - 1) / seconds,
            "max_window": best, "max_window_steady": best_steady}


def wait_for(arrivals: list[float], done, timeout: float, label: str) -> bool:
    """Wait until `done()` (False after `timeout` s), printing progress every 10 s."""
    started = last_print = time.monotonic()
    while not done():
        if time.monotonic() - started > timeout:
            print(f"  {label}: gave up after {timeout:.0f} s with {len(arrivals)} messages", flush=True)
            return False
        time.sleep(0.1)
        if time.monotonic() - last_print >= 10:
            last_print = time.monotonic()
            recent = sum(t > last_print - 10 for t in arrivals) / 10
            print(f"  {label}: {len(arrivals):>6} messages after {last_print - started:4.0f} s ({recent:.1f}/s)",
                  flush=True)
    return True


def start_bot(server: EmulatorThread, db_path: Path, log_path: Path) -> BotProcess:
    calls = server.emulator.state.calls
    polls_before = calls.get("getUpdates", 0)
    bot = BotProcess(bot_env(server.api_url, db_path, BOT_TICK_SECONDS="1"), log_path)
    return bot.start(ready=lambda: calls.get("getUpdates", 0) > polls_before, timeout=180)


# -- the three parts ------------------------------------------------------------------------------

def run_limited(learners: int, template: Path, directory: Path) -> dict:
    print(f"\n[limited] the real bot sends to {learners} learners at most {RATE:.0f}/s", flush=True)
    server, arrivals, per_chat = start_emulator(learners)
    db_path = directory / "limited.sqlite3"
    fill_database(db_path, template, learners)
    started = time.monotonic()
    bot = start_bot(server, db_path, directory / "limited.log")
    try:
        wait_for(arrivals, lambda: len(per_chat) >= learners, learners / RATE * 1.5 + 120, "limited")
        time.sleep(2)  # anything sent twice would show now
        counts = received(server)
    finally:
        bot.stop()
        server.stop()
    figures = rate_figures(arrivals)
    figures["first_after"] = (min(arrivals) - started) if arrivals else 0.0
    figures["ideal"] = learners / RATE
    figures["deviation"] = (figures["seconds"] - figures["ideal"]) / figures["ideal"]
    figures["distinct"] = len(counts)
    figures["duplicates"] = sum(n - 1 for n in counts.values())
    return figures


def run_unlimited(learners: int, directory: Path) -> dict:
    print(f"\n[unlimited] OutboxSender without a rate limiter drains {learners} rows", flush=True)
    server, arrivals, _ = start_emulator(learners)
    db_path = directory / "unlimited.sqlite3"
    fill_database(db_path, None, learners, queue=True)
    try:
        child = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--drain", str(db_path), server.api_url],
                               capture_output=True, text=True, timeout=learners / 10 + 120, cwd=ROOT)
        if child.returncode != 0:
            raise RuntimeError(f"the drain process failed:\n{child.stderr[-3000:]}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        counts = received(server)
    finally:
        server.stop()
    figures = rate_figures(arrivals)
    figures.update(sender_sent=result["sent"], sender_seconds=result["seconds"],
                   sender_rate=result["sent"] / result["seconds"] if result["seconds"] else 0.0,
                   outbox=result["outbox"], distinct=len(counts))
    return figures


async def drain(db_path: Path, api_url: str) -> None:
    """(Child process.) Drain the outbox as the bot's sender does, without a rate limiter."""
    from telegram.ext import ExtBot

    from bot.delivery.outbox import OutboxSender
    from bot.delivery.transport import AiohttpRequest
    from bot.storage import utc_now

    storage = Storage(db_path)
    # As bot/runner.py build_outbox_bot, minus the rate limiter.
    bot = ExtBot(TEST_TOKEN, base_url=api_url, request=AiohttpRequest(connection_pool_size=32, pool_timeout=10.0))
    sender = OutboxSender(bot, storage, utc_now)
    await bot.initialize()
    started = time.monotonic()
    while await sender.drain_once():
        pass
    seconds = time.monotonic() - started
    await bot.shutdown()
    print(json.dumps({"sent": sender.sent, "seconds": seconds, "outbox": storage.outbox_counts()}))
    storage.close()


def run_kill(learners: int, template: Path, directory: Path, kill_after: float) -> dict:
    kill_at = max(1, int(learners * 0.4))
    print(f"\n[kill] SIGKILL after {kill_after:.0f} s of sending or {kill_at} messages, then a restart", flush=True)
    server, arrivals, per_chat = start_emulator(learners)
    db_path = directory / "kill.sqlite3"
    fill_database(db_path, template, learners)
    log_path = directory / "kill.log"
    bot = start_bot(server, db_path, log_path)
    try:
        if not wait_for(arrivals, lambda: bool(arrivals), 120, "kill, first message"):
            raise RuntimeError(f"the bot sent nothing:\n{bot.log()[-3000:]}")
        first = arrivals[0]
        wait_for(arrivals, lambda: len(arrivals) >= kill_at or time.monotonic() - first >= kill_after,
                 kill_after + 60, "kill, before")
        bot.kill()
        sent_before = len(arrivals)
        marked_before = outbox_counts(db_path).get("sent", 0)
        print(f"  killed: {sent_before} received by the emulator, {marked_before} marked sent", flush=True)
        bot = start_bot(server, db_path, log_path)
        wait_for(arrivals, lambda: len(per_chat) >= learners and outbox_counts(db_path).get("pending", 0) == 0,
                 (learners - sent_before) / RATE * 1.5 + 120, "kill, after restart")
        time.sleep(3)  # anything sent twice would show now
        counts = received(server)
        outbox = outbox_counts(db_path)
    finally:
        bot.stop()
        server.stop()
    return {"sent_before": sent_before, "marked_before": marked_before, "distinct": len(counts),
            "duplicates": sum(n - 1 for n in counts.values()), "twice": sum(n > 1 for n in counts.values()),
            "missing": learners - len(counts), "outbox": outbox}


# -- the report -----------------------------------------------------------------------------------

def report(learners: int, limited: dict | None, unlimited: dict | None, kill: dict | None) -> None:
    print(f"\n=== push benchmark: {learners} learners, one announcement ===")
    if limited or unlimited:
        print(f"{'mode':<11} {'received':>8} {'distinct':>8} {'seconds':>8} {'avg/s':>7} {'max 1s':>7} "
              f"{'max 1s*':>7}  notes")
    if limited:
        ok = abs(limited["deviation"]) <= 0.05
        print(f"{'limited':<11} {limited['messages']:>8} {limited['distinct']:>8} {limited['seconds']:>8.1f} "
              f"{limited['average']:>7.1f} {limited['max_window']:>7} {limited['max_window_steady']:>7}  "
              f"ideal {limited['ideal']:.1f} s, {limited['deviation']:+.1%}: "
              f"{'within 5%' if ok else 'NOT within 5%'}; first message {limited['first_after']:.1f} s "
              f"after the bot was started; duplicates {limited['duplicates']}")
    if unlimited:
        print(f"{'unlimited':<11} {unlimited['messages']:>8} {unlimited['distinct']:>8} "
              f"{unlimited['seconds']:>8.1f} {unlimited['average']:>7.1f} {unlimited['max_window']:>7} "
              f"{unlimited['max_window_steady']:>7}  sender: {unlimited['sender_sent']} sent in "
              f"{unlimited['sender_seconds']:.1f} s = {unlimited['sender_rate']:.0f} msg/s; "
              f"outbox {unlimited['outbox']}")
    if limited or unlimited:
        print("(max 1s: most messages in any sliding 1-second window; max 1s*: the same after the first 2 s)")
    if kill:
        in_flight = kill["sent_before"] - kill["marked_before"]
        verdict = "OK" if kill["duplicates"] == 0 and kill["missing"] == 0 else "FAILED"
        print(f"\nkill test: {kill['sent_before']} received before SIGKILL ({kill['marked_before']} marked sent, "
              f"{in_flight} delivered but not yet marked); after the restart {kill['distinct']} distinct "
              f"recipients, duplicates {kill['duplicates']} (learners who got it twice: {kill['twice']}), "
              f"missing {kill['missing']}; outbox {kill['outbox']}: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=10_000, help="learners in the cohort (default 10000)")
    parser.add_argument("--kill-after", type=float, default=80.0,
                        help="seconds of sending before the kill (default 80; or 40%% of the messages)")
    parser.add_argument("--skip-limited", action="store_true", help="skip the real bot with its rate limiter")
    parser.add_argument("--skip-unlimited", action="store_true", help="skip the pipeline without a rate limiter")
    parser.add_argument("--skip-kill", action="store_true", help="skip the kill -9 and restart test")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (databases, bot logs)")
    parser.add_argument("--drain", nargs=2, metavar=("DB", "API_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drain:
        asyncio.run(drain(Path(args.drain[0]), args.drain[1]))
        return

    directory = Path(tempfile.mkdtemp(prefix="bench-push-"))
    limited = unlimited = kill = None
    try:
        template = None
        if not (args.skip_limited and args.skip_kill):
            print("making the embedding-cache template database ...", flush=True)
            template = embedding_template(directory)
        if not args.skip_limited:
            limited = run_limited(args.learners, template, directory)
        if not args.skip_unlimited:
            unlimited = run_unlimited(args.learners, directory)
        if not args.skip_kill:
            kill = run_kill(args.learners, template, directory, args.kill_after)
        report(args.learners, limited, unlimited, kill)
    finally:
        if args.keep:
            print(f"\nwork directory kept: {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
