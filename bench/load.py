"""Load benchmark: simulated learners (default 1,000) chat with the real bot through the emulator.

    .venv/bin/python bench/load.py                       # offered 100/s for 60 s, saturation, echo baseline
    .venv/bin/python bench/load.py --learners 100 --rate 20 --seconds 15 --saturation-seconds 10
    .venv/bin/python bench/load.py --soak 10             # also 10 minutes of steady load (RSS every 30 s)
    .venv/bin/python bench/load.py --skip-echo --skip-saturation

Each learner first sends /start, then a mix: a question in Danish (the `q` fields of
bench/data/retrieval_eval.yaml), /quiz followed by a vote on the poll, /fremskridt, /indstillinger.
Latency is the time from the user's message (or vote) to the bot's first message in that chat, as
the emulator stores it (an in-process watcher; the users act through the emulator's HTTP API).
A learner acts again only when every message its action brings has arrived.

Phases:
  offered     updates at a fixed rate (--rate per second for --seconds), open loop: throughput,
              p50/p95/p99 latency, errors, the bot's resident memory (now and peak).
  saturation  --saturation-users learners act back to back for --saturation-seconds: the most the
              bot handles per second.
  echo        the same saturation load against bench/echo_bot.py, a bare python-telegram-bot echo
              bot, on an emulator of its own: the ratio bot/echo (target: at least 75%).
              Saturation and echo alternate, --rounds times, in counterbalanced order (bot-echo,
              echo-bot, ...): this machine's speed drifts by a third within minutes, and a phase
              runs slower right after a heavy one. The ratio is of the totals; the rounds' own
              ratios show the spread.
  soak        (--soak MINUTES) a steady --soak-rate for that long, RSS every 30 s; flat or not.

Errors: replies with "der gik noget galt" (or the busy reply), no reply within 10 s, failed HTTP
calls to the emulator, and Bot API calls the emulator refused. The bot runs with BOT_TIMEZONE set to
a zone where it is night, so no daily pushes mix with the replies. Everything talks to 127.0.0.1.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as run_bot.py does; see the comment there

import argparse
import asyncio
import contextlib
import math
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.push import bot_env, embedding_template, vm_rss_mb  # noqa: E402
from bot.localmode.emulator import BotApiEmulator  # noqa: E402
from tests.support import TEST_TOKEN, BotProcess, free_port, quiet_zone  # noqa: E402

QUESTIONS = [item["q"] for item in yaml.safe_load((ROOT / "bench" / "data" / "retrieval_eval.yaml").read_text())]
MIX = {"question": 50, "quiz": 20, "progress": 15, "settings": 15}  # weights of the actions after /start
COMMANDS = {"start": "/start", "quiz": "/quiz", "progress": "/fremskridt", "settings": "/indstillinger"}
ERROR_TEXTS = ("der gik noget galt", "jeg har travlt")  # texts.ERROR_REPLY, texts.BUSY_REPLY
TIMEOUT = 10.0  # seconds without a reply: counted as a timeout
WARM_UP_SECONDS = 10.0  # the echo bot's unmeasured saturation before its first phase
CORRECT_SHARE = 0.7  # how often a learner picks the right answer


class WatchedEmulator(BotApiEmulator):
    """The emulator, telling the load generator about each bot message the moment it is stored, and
    counting the Bot API calls it refused (4xx/5xx)."""

    def __init__(self) -> None:
        super().__init__()
        self.on_bot_message = None
        self.refused: Counter = Counter()

    async def _record(self, chat_id: int, message: dict, sender: str) -> None:
        await super()._record(chat_id, message, sender)
        if sender == "bot" and self.on_bot_message is not None:
            self.on_bot_message(chat_id, message)

    async def _bot_api(self, request: web.Request) -> web.Response:
        response = await super()._bot_api(request)
        if response.status >= 400:
            self.refused[request.match_info["method"]] += 1
        return response


class EmulatorServer:
    """A WatchedEmulator served on 127.0.0.1 from this process's event loop."""

    async def start(self) -> EmulatorServer:
        self.emulator = WatchedEmulator()
        app = web.Application(client_max_size=20 * 1024 * 1024)
        self.emulator.add_routes(app)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def polling(self) -> bool:
        return self.emulator.state.calls.get("getUpdates", 0) > 0

    async def stop(self) -> None:
        await self.runner.cleanup()


@dataclass
class Learner:
    user_id: int
    started: bool = False
    poll: dict | None = None  # a quiz poll waiting for the vote
    retired: bool = False  # a reply went missing: a late one must not count for the next action
    expected: int = 0
    received: list = field(default_factory=list)
    first_at: float | None = None
    done: asyncio.Future | None = None


@dataclass
class Result:
    action: str
    sent_at: float
    first_at: float | None  # None: no reply within TIMEOUT (or the HTTP call failed)
    incomplete: bool = False  # the first reply came, a later expected one did not
    error_reply: bool = False
    http_error: bool = False

    @property
    def latency(self) -> float | None:
        return None if self.first_at is None else self.first_at - self.sent_at


class Load:
    """Simulated learners acting through the emulator's user API."""

    def __init__(self, server: EmulatorServer, first_user_id: int, learners: int, echo: bool = False) -> None:
        self.server = server
        self.echo = echo
        self.learners = {uid: Learner(uid) for uid in range(first_user_id, first_user_id + learners)}
        self.idle = deque(self.learners.values())
        self.results: list[Result] = []
        self.unsolicited = 0
        self.http = aiohttp.ClientSession(server.url, timeout=aiohttp.ClientTimeout(total=TIMEOUT),
                                          connector=aiohttp.TCPConnector(limit=200))
        server.emulator.on_bot_message = self.bot_message

    async def close(self) -> None:
        await self.http.close()

    def bot_message(self, chat_id: int, message: dict) -> None:
        learner = self.learners.get(chat_id)
        if learner is None or learner.done is None or learner.done.done():
            self.unsolicited += 1
            return
        if learner.first_at is None:
            learner.first_at = time.monotonic()
        learner.received.append(message)
        if len(learner.received) >= learner.expected:
            learner.done.set_result(None)

    def next_action(self, learner: Learner) -> str:
        if not learner.started:
            return "start"
        if learner.poll is not None:
            return "vote"
        return random.choices(list(MIX), weights=list(MIX.values()))[0]

    async def post(self, path: str, body: dict) -> None:
        async with self.http.post(path, json=body) as response:
            if response.status != 200:
                raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)

    async def act(self, learner: Learner) -> None:
        """One action: send it, wait for every message it brings (at most TIMEOUT s), note the result."""
        action = self.next_action(learner)
        learner.expected = 1
        learner.received, learner.first_at = [], None
        learner.done = asyncio.get_running_loop().create_future()
        result = Result(action, time.monotonic(), None)
        try:
            if action == "vote":
                poll, learner.poll = learner.poll, None
                right = poll["correct_option_ids"][0]
                choice = right if random.random() < CORRECT_SHARE else (right + 1) % len(poll["options"])
                await self.post("/emulator/vote", {"user_id": learner.user_id, "poll_id": poll["id"],
                                                   "option_ids": [choice]})
            else:
                text = random.choice(QUESTIONS) if action == "question" else COMMANDS[action]
                await self.post("/emulator/send", {"user_id": learner.user_id, "text": text})
            await asyncio.wait_for(learner.done, TIMEOUT)
        except (aiohttp.ClientError, TimeoutError) as error:
            result.http_error = not isinstance(error, TimeoutError)
        result.first_at = learner.first_at
        result.incomplete = learner.first_at is not None and len(learner.received) < learner.expected
        texts = [(m.get("text") or "").lower() for m in learner.received]
        result.error_reply = any(e in t for t in texts for e in ERROR_TEXTS)
        self.results.append(result)
        learner.done = None
        if result.first_at is None or result.incomplete:
            learner.retired = True
        elif action == "start":
            learner.started = True
        elif action == "quiz" and "poll" in learner.received[0]:
            learner.poll = learner.received[0]["poll"]

    async def offered(self, rate: float, seconds: float) -> dict:
        """Open loop: an action every 1/rate s, by the learner idle the longest."""
        started, count, skipped, tasks = time.monotonic(), 0, 0, set()
        first = len(self.results)

        async def act_once(learner: Learner) -> None:
            await self.act(learner)
            if not learner.retired:
                self.idle.append(learner)

        while time.monotonic() < started + seconds:
            due = started + count / rate
            if due > time.monotonic():
                await asyncio.sleep(due - time.monotonic())
                continue
            count += 1
            if not self.idle:
                skipped += 1
                continue
            task = asyncio.create_task(act_once(self.idle.popleft()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(set(tasks), timeout=TIMEOUT + 5)
        return {"offered": count, "skipped": skipped, "started": started, "seconds": seconds,
                "results": self.results[first:]}

    async def saturate(self, users: int, seconds: float) -> dict:
        """Closed loop: `users` learners act back to back, as fast as the bot answers."""
        started = time.monotonic()
        first = len(self.results)
        chosen = [self.idle.popleft() for _ in range(min(users, len(self.idle)))]

        async def keep_acting(learner: Learner) -> None:
            while time.monotonic() < started + seconds and not learner.retired:
                await self.act(learner)
            if not learner.retired:
                self.idle.append(learner)

        await asyncio.gather(*(keep_acting(learner) for learner in chosen))
        return {"offered": len(self.results) - first, "skipped": 0, "started": started, "seconds": seconds,
                "results": self.results[first:]}


# -- figures --------------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarize(phase: dict, window_only: bool = False) -> dict:
    """Throughput over the phase (replies per second) and latency percentiles in ms."""
    results = phase["results"]
    started, seconds = phase["started"], phase["seconds"]
    answered = [r for r in results if r.first_at is not None]
    if window_only:  # saturation: only what was answered within the window counts
        counted = [r for r in answered if r.first_at <= started + seconds]
        elapsed = seconds
    else:
        counted = answered
        elapsed = max((r.first_at for r in answered), default=started + seconds) - started
    latencies = [r.latency * 1000 for r in answered]
    return {
        "offered": phase["offered"], "skipped": phase["skipped"], "handled": len(counted),
        "throughput": len(counted) / elapsed if elapsed > 0 else 0.0,
        "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95), "p99": percentile(latencies, 0.99),
        "error_replies": sum(r.error_reply for r in results), "timeouts": sum(r.first_at is None for r in results),
        "http_errors": sum(r.http_error for r in results), "incomplete": sum(r.incomplete for r in results),
        "by_action": {a: percentile([r.latency * 1000 for r in answered if r.action == a], 0.95)
                      for a in sorted({r.action for r in answered})},
    }


class MemoryWatch:
    """The bot process's resident memory, sampled every second."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float]] = []

    async def run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), vm_rss_mb(self.pid)))
            await asyncio.sleep(1.0)

    def peak(self, since: float) -> float:
        return max((mb for t, mb in self.samples if t >= since), default=0.0)


def print_phase(name: str, figures: dict, refused: Counter, unsolicited: int, memory: str = "") -> None:
    print(f"{name:<11} {figures['offered']:>7} {figures['handled']:>7} {figures['throughput']:>8.1f} "
          f"{figures['p50']:>7.0f} {figures['p95']:>7.0f} {figures['p99']:>7.0f} {figures['error_replies']:>6} "
          f"{figures['timeouts']:>6} {figures['http_errors']:>5} {sum(refused.values()):>7}  {memory}")
    extra = []
    if figures["skipped"]:
        extra.append(f"{figures['skipped']} not offered (no idle learner)")
    if figures["incomplete"]:
        extra.append(f"{figures['incomplete']} replies incomplete")
    if unsolicited:
        extra.append(f"{unsolicited} messages nobody waited for")
    if refused:
        extra.append(f"refused: {dict(refused)}")
    extra.append("p95 ms by action: " + ", ".join(f"{a} {v:.0f}" for a, v in figures["by_action"].items()))
    print(f"{'':<11} " + "; ".join(extra))


HEADER = (f"{'phase':<11} {'offered':>7} {'handled':>7} {'upd/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'errors':>6} {'t/o>10s':>6} {'http':>5} {'refused':>7}  bot RSS")


# -- the run --------------------------------------------------------------------------------------

class BotRun:
    """The real bot on its own emulator, and the phases run against it."""

    def __init__(self, args: argparse.Namespace, directory: Path, echo: EchoBot | None) -> None:
        self.args = args
        self.directory = directory
        self.echo = echo
        self.phases: list[tuple] = []  # arguments of print_phase
        self.notes: list[str] = []

    async def run(self) -> None:
        """All phases against the bot (and the echo bot's rounds between its saturation phases)."""
        args = self.args
        print("making the embedding-cache template database ...", flush=True)
        template = await asyncio.to_thread(embedding_template, self.directory)
        self.db_path = db_path = self.directory / "bot.sqlite3"
        shutil.copy(template, db_path)
        self.server = await EmulatorServer().start()
        self.bot = BotProcess(bot_env(f"{self.server.url}/bot", db_path, BOT_TIMEZONE=quiet_zone()),
                              self.directory / "bot.log")
        self.load = Load(self.server, 300_000, args.learners)
        watcher = None
        try:
            print("starting the bot ...", flush=True)
            await asyncio.to_thread(self.bot.start, lambda: self.server.polling() and "dense search ready"
                                    in self.bot.log(), 180)
            pid = self.bot.process.pid
            self.memory = MemoryWatch(pid)
            watcher = asyncio.create_task(self.memory.run())
            print(f"bot ready, RSS {vm_rss_mb(pid):.0f} MB", flush=True)
            print(f"offered load: {args.rate:g} updates/s for {args.seconds:g} s, {args.learners} learners",
                  flush=True)
            await self.phase("offered", self.load.offered(args.rate, args.seconds))
            await self.settle()
            if not args.skip_saturation:
                await self.saturation_rounds()
            if args.soak:
                await self.settle()
                await self.soak()
            in_play = sum(not learner.retired for learner in self.load.learners.values())
            self.notes.append(f"bot RSS at the end {vm_rss_mb(pid):.0f} MB, peak (VmHWM) "
                              f"{vm_rss_mb(pid, 'VmHWM'):.0f} MB; learners still in play {in_play}")
            errors = [line for line in self.bot.log().splitlines() if " ERROR " in line or "Traceback" in line]
            self.notes.append(f"errors in the bot log: {len(errors)}" + "".join(f"\n    {e[:200]}" for e in errors[:3]))
        finally:
            if watcher is not None:
                watcher.cancel()
            await asyncio.to_thread(self.bot.stop)
            await self.load.close()
            await self.server.stop()

    async def echo_phase(self, number: int) -> float:
        row = await self.echo.saturate(f"echo{number}", self.notes)
        self.phases.append(row)
        return row[1]["throughput"]

    async def saturation_rounds(self) -> None:
        args = self.args
        print(f"saturation: {args.saturation_users} learners back to back for {args.saturation_seconds:g} s, "
              f"{args.rounds} round(s)" + (", each with one of the echo bot" if self.echo else ""), flush=True)
        bot, echo = [], []
        for number in range(1, args.rounds + 1):
            # Counterbalanced order (bot-echo, echo-bot, ...): a phase runs slower right after a heavy
            # one on this machine, so neither side should always come second.
            first_echo = self.echo is not None and number % 2 == 0
            if first_echo:
                echo.append(await self.echo_phase(number))
            figures = await self.phase(f"saturation{number}", self.load.saturate(args.saturation_users,
                                                                                  args.saturation_seconds), True)
            bot.append(figures["throughput"])
            await self.settle()
            if self.echo is not None and not first_echo:
                echo.append(await self.echo_phase(number))
        if not echo:
            return
        ratio = sum(bot) / sum(echo)
        rounds = ", ".join(f"{b / e:.0%}" for b, e in zip(bot, echo, strict=True))
        self.notes.append(f"saturation throughput: bot {sum(bot) / len(bot):.1f} updates/s, echo bot "
                          f"{sum(echo) / len(echo):.1f} updates/s (means of {len(bot)} alternating rounds), ratio "
                          f"{ratio:.0%} ({'meets' if ratio >= 0.75 else 'BELOW'} the 75% target); "
                          f"by round: {rounds}")

    async def settle(self, timeout: float = 120.0) -> None:
        """Wait until the bot has handled every update it was sent, so that one phase's backlog does
        not count in the next."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.closing(sqlite3.connect(self.db_path, timeout=5)) as connection:
                pending = connection.execute("SELECT COUNT(*) FROM inbox WHERE status = 'pending'").fetchone()[0]
            if pending == 0 and not self.server.emulator.state.updates:
                return
            await asyncio.sleep(0.5)
        print(f"  the bot still has {pending} updates in hand after {timeout:.0f} s", flush=True)

    async def phase(self, name: str, work, window_only: bool = False) -> dict:
        since = time.monotonic()
        pid = self.bot.process.pid
        figures, refused, unsolicited = await measured_phase(name, work, window_only, self.server, self.load, pid,
                                                            self.notes)
        now_mb = vm_rss_mb(pid)
        rss = f"{now_mb:.0f} MB, peak {max(now_mb, self.memory.peak(since)):.0f} MB"
        self.phases.append((name, figures, refused, unsolicited, rss))
        return figures

    async def soak(self) -> None:
        args, pid = self.args, self.bot.process.pid
        print(f"soak: {args.soak_rate:g} updates/s for {args.soak:g} min; RSS every 30 s", flush=True)
        marks = [vm_rss_mb(pid)]  # at the start, every 30 s, and at the end
        started = time.monotonic()

        async def report() -> None:
            while True:
                await asyncio.sleep(30)
                marks.append(vm_rss_mb(pid))
                now = time.monotonic()
                recent = [r for r in self.load.results if r.first_at is not None and r.first_at > now - 30]
                p95 = percentile([r.latency * 1000 for r in recent], 0.95)
                print(f"  soak {now - started:5.0f} s: RSS {marks[-1]:.0f} MB, {len(recent) / 30:.1f} updates/s, "
                      f"p95 {p95:.0f} ms", flush=True)

        reporter = asyncio.create_task(report())
        try:
            await self.phase("soak", self.load.offered(args.soak_rate, args.soak * 60))
        finally:
            reporter.cancel()
        marks.append(vm_rss_mb(pid))
        third = max(1, len(marks) // 3)
        growth = sum(marks[-third:]) / third - sum(marks[:third]) / third
        flat = abs(growth) <= max(10.0, 0.05 * marks[0])
        self.notes.append("soak RSS at the start, every 30 s and at the end (MB): "
                          + " ".join(f"{m:.0f}" for m in marks))
        self.notes.append(f"soak memory, last third vs first third: {growth:+.1f} MB: "
                          f"{'flat' if flat else 'GROWING'}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def machine_ticks() -> tuple[int, int]:
    """All CPU ticks of the machine and those stolen by the hypervisor, from /proc/stat."""
    try:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    return sum(fields), fields[7]


class CpuMeter:
    """CPU seconds a process used, and wall seconds, over a `with` block; also the share of the
    machine's CPU time the hypervisor took (steal), which slows everything in a VM."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def __enter__(self) -> CpuMeter:
        self.cpu, self.wall, self.ticks = cpu_seconds(self.pid), time.monotonic(), machine_ticks()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu, self.wall = cpu_seconds(self.pid) - self.cpu, time.monotonic() - self.wall
        (total, steal), (total_before, steal_before) = machine_ticks(), self.ticks
        self.steal = (steal - steal_before) / (total - total_before) if total > total_before else 0.0


def cpu_note(name: str, figures: dict, bot: CpuMeter, generator: CpuMeter, calls: Counter) -> str:
    """Where the machine's CPU went in a phase: the bot's share says what an update costs it, and its
    Bot API calls (getUpdates aside) how much sending each update brings."""
    handled = max(1, figures["handled"])
    sends = sum(count for method, count in calls.items() if method != "getUpdates")
    busiest = ", ".join(f"{method} {count / handled:.2f}" for method, count in calls.most_common(4))
    return (f"{name}: bot CPU {1000 * bot.cpu / handled:.1f} ms per handled update ({bot.cpu / bot.wall:.2f} "
            f"cores); load generator and emulator {1000 * generator.cpu / handled:.1f} ms "
            f"({generator.cpu / generator.wall:.2f} cores); Bot API calls per update {sends / handled:.2f} "
            f"({busiest}); steal {bot.steal:.0%}")


async def measured_phase(name: str, work, window_only: bool, server: EmulatorServer, load: Load, pid: int,
                         notes: list[str]) -> tuple[dict, Counter, int]:
    """Run one phase's load against the bot process `pid` and note where the CPU went. Returns the
    figures, the Bot API calls the emulator refused and the messages nobody waited for."""
    refused_before, unsolicited_before = Counter(server.emulator.refused), load.unsolicited
    calls_before = Counter(server.emulator.state.calls)
    with CpuMeter(pid) as process_cpu, CpuMeter(os.getpid()) as own_cpu:
        figures = summarize(await work, window_only)
    calls = Counter(server.emulator.state.calls) - calls_before
    notes.append(cpu_note(name, figures, process_cpu, own_cpu, calls))
    print(f"  {name}: {figures['throughput']:.1f} updates/s, p95 {figures['p95']:.0f} ms", flush=True)
    return figures, server.emulator.refused - refused_before, load.unsolicited - unsolicited_before


class EchoBot:
    """bench/echo_bot.py, a bare python-telegram-bot echo bot, on an emulator of its own."""

    def __init__(self, args: argparse.Namespace, directory: Path) -> None:
        self.args = args
        self.log_path = directory / "echo.log"

    async def start(self) -> None:
        self.server = await EmulatorServer().start()
        self.log = self.log_path.open("a")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TEST_TOKEN, "TELEGRAM_API_URL": f"{self.server.url}/bot",
               "PYTHONUNBUFFERED": "1"}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bench" / "echo_bot.py"), "--transport", self.args.echo_transport, cwd=ROOT,
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.load = Load(self.server, 600_000, self.args.learners, echo=True)
        deadline = time.monotonic() + 60
        while not self.server.polling():
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the echo bot did not start:\n{self.log_path.read_text()[-2000:]}")
            await asyncio.sleep(0.1)
        # Unmeasured warm-up, as the bot gets in the offered phase: a cold echo bot is about a fifth slower.
        await self.load.saturate(self.args.saturation_users, WARM_UP_SECONDS)

    async def saturate(self, name: str, notes: list[str]) -> tuple:
        """One saturation phase; returns the row for the table."""
        work = self.load.saturate(self.args.saturation_users, self.args.saturation_seconds)
        figures, refused, unsolicited = await measured_phase(name, work, True, self.server, self.load,
                                                            self.process.pid, notes)
        return name, figures, refused, unsolicited, f"echo bot {vm_rss_mb(self.process.pid):.0f} MB"

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self.log.close()
        await self.load.close()
        await self.server.stop()


async def main_async(args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-load-"))
    echo = None if args.skip_saturation or args.skip_echo else EchoBot(args, directory)
    try:
        if echo is not None:
            await echo.start()  # idle (in a long poll) until its rounds
        bot_run = BotRun(args, directory, echo)
        await bot_run.run()
        print(f"\n=== load benchmark: {args.learners} learners ===")
        print(HEADER)
        for row in bot_run.phases:
            print_phase(*row)
        print("\n".join(bot_run.notes))
        if args.keep:
            print(f"\nwork directory kept: {directory}")
    finally:
        if echo is not None:
            await echo.stop()
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=1000, help="simulated learners (default 1000)")
    parser.add_argument("--rate", type=float, default=100.0, help="offered updates per second (default 100)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the offered load (default 60)")
    parser.add_argument("--saturation-users", type=int, default=100,
                        help="learners acting back to back in the saturation phases (default 100)")
    parser.add_argument("--saturation-seconds", type=float, default=20.0, help="length of a saturation phase")
    parser.add_argument("--rounds", type=int, default=3,
                        help="saturation phases of the bot, each paired with one of the echo bot (default 3)")
    parser.add_argument("--skip-saturation", action="store_true", help="no saturation phase (and no echo)")
    parser.add_argument("--skip-echo", action="store_true", help="no echo-bot baseline")
    parser.add_argument("--echo-transport", choices=("httpx", "aiohttp"), default="httpx",
                        help="the echo bot's HTTP library: httpx (PTB's default, the bare framework) or aiohttp "
                             "(the bot's own transport)")
    parser.add_argument("--soak", type=float, default=0.0, metavar="MINUTES", help="soak for this long (default off)")
    parser.add_argument("--soak-rate", type=float, default=20.0, help="updates per second in the soak (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the learners' choices")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (database, bot logs)")
    args = parser.parse_args()
    random.seed(args.seed)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
