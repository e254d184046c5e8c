"""The consultants' web dashboard on the project's aiohttp server (under /dashboard).

Server-rendered Jinja2 templates with autoescaping; no JavaScript. Sessions are random tokens
(only their hash is stored) that expire; cookies are HttpOnly, SameSite=Strict and Secure behind
HTTPS. Every form carries a CSRF token. Failed logins slow further tries down (a growing delay, never
a lockout), and password hashes are checked in a small thread pool, never on the event loop that
answers learners. Every page and export checks on the server that the cohort or campaign belongs to
the logged-in consultant.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.services import campaigns as campaign_rules
from bot.services.campaigns import Campaigns
from bot.storage import CampaignStore, CohortStore, ConsultantStore
from bot.web.exports import csv_rows, csv_safe, draft_rows
from bot.web.pages import (
    CAMPAIGN_PATH,
    COHORT_PATH,
    CampaignPages,
    error_pages,
    install_filters,
    retention_points,
    write_csv,
)
from knowledge.articles import AREAS as AREA_NAMES
from quizzes.bank import AREAS
from quizzes.pushes import outside_quiet_hours

log = logging.getLogger(__name__)

SESSION_COOKIE = "fa_session"
LOGIN_CSRF_COOKIE = "fa_login_csrf"
NEXT_COOKIE = "fa_next"  # the page asked for before the login
SESSION_LIFETIME = timedelta(hours=8)
# After FREE_FAILURES failed logins for a name (four times as many for an address) within
# FAILURE_WINDOW, each further try waits 2, 4, 8, ... up to MAX_DELAY seconds after the last failure.
FREE_FAILURES, FAILURE_WINDOW, MAX_DELAY = 5, timedelta(minutes=15), 60
# Over all names and addresses, at most GLOBAL_FAILURES failed logins a minute are checked: a flood
# costs at most that many argon2 hashes (about 0.1 s of CPU each).
GLOBAL_FAILURES, GLOBAL_WINDOW, GLOBAL_KEY = 60, timedelta(minutes=1), "all"
MAX_PASSWORD = 200  # longer passwords are refused at `consultant add` and never hashed at login
HASH_QUEUE = 4  # password checks running or waiting; a fifth concurrent login is told to retry
MAX_FORM_BYTES = 64 * 1024
WEEKDAY_NAMES = ("man", "tir", "ons", "tor", "fre", "lør", "søn")
DUMMY_HASH = campaign_rules.hash_password("not-a-real-password-just-equal-timing")
CSV_TABLES = ("areas", "questions", "learners", "unanswered", "retention", "drafts")

STATUS_NAMES = {"active": "Kører", "paused": "På pause", "ended": "Afsluttet"}


class Dashboard(CampaignPages):
    def __init__(self, consultants: ConsultantStore, cohorts: CohortStore, campaign_store: CampaignStore,
                 campaigns: Campaigns, clock: Callable[[], datetime], bot_username: Callable[[], str],
                 trusted_proxies: frozenset[str] = frozenset()) -> None:
        self.consultants = consultants
        self.trusted_proxies = trusted_proxies
        # argon2 releases the GIL: one thread keeps a login flood to one core, off the event loop.
        self._hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")
        self._hash_slots = asyncio.Semaphore(HASH_QUEUE)
        self.cohorts = cohorts
        self.campaign_store = campaign_store
        self.campaigns = campaigns
        self.clock = clock
        self.bot_username = bot_username

    # -- wiring ------------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        aiohttp_jinja2.setup(
            app, loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=jinja2.select_autoescape(["html"], default=True),
            context_processors=[aiohttp_jinja2.request_processor],
        )
        env = aiohttp_jinja2.get_env(app)
        env.globals.update(area_names=AREA_NAMES, areas=AREAS, weekday_names=WEEKDAY_NAMES,
                           status_names=STATUS_NAMES)
        env.filters["percent"] = lambda v: "–" if v is None else f"{v * 100:.0f} %"
        install_filters(env, self.campaigns.timezone)  # dates dd.mm.åååå, times in BOT_TIMEZONE
        app.middlewares.append(error_pages)
        routes = [
            web.get("/dashboard/login", self.login_page),
            web.post("/dashboard/login", self.login),
            web.post("/dashboard/logout", self.logout),
            web.get("/dashboard", self.home),
            web.get("/dashboard/", self.home),
            web.post("/dashboard/cohorts", self.create_cohort),
            web.get(COHORT_PATH, self.cohort_page),
            web.get(COHORT_PATH + "/qr.svg", self.cohort_qr),
            web.post(COHORT_PATH + "/campaigns", self.create_campaign),
            web.post(COHORT_PATH + "/announcements", self.create_announcement),
            web.get(CAMPAIGN_PATH, self.campaign_page),
            web.post(CAMPAIGN_PATH + "/status", self.campaign_status),
            web.get(CAMPAIGN_PATH + "/retention.png", self.retention_chart),
            web.get(CAMPAIGN_PATH + "/export/{table:[a-z]+}.csv", self.export_csv),
            web.post("/dashboard/telegram-link", self.telegram_link),
        ]
        app.add_routes([*routes, *self.page_routes()])
        app.on_response_prepare.append(self._security_headers)

    # -- sessions and CSRF --------------------------------------------------------------------------

    async def _security_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        if not request.path.startswith("/dashboard"):
            return
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if self._secure(request):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        response.headers["Cache-Control"] = "no-store"  # pages and exports hold learners' results

    def _from_proxy(self, request: web.Request) -> bool:
        return request.remote in self.trusted_proxies

    def _secure(self, request: web.Request) -> bool:
        return request.secure or (self._from_proxy(request) and request.headers.get("X-Forwarded-Proto") == "https")

    def client_address(self, request: web.Request) -> str:
        """The caller's address: X-Forwarded-For is believed only from a configured proxy (TRUSTED_PROXIES),
        and only its last entry that is not itself a trusted proxy."""
        address = request.remote or ""
        if self._from_proxy(request):
            for hop in reversed(request.headers.get("X-Forwarded-For", "").split(",")):
                address = hop.strip()[:64] or address
                if address not in self.trusted_proxies:
                    break
        return address

    def _set_cookie(self, request: web.Request, response: web.StreamResponse, name: str, value: str,
                    max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="Strict",
                            secure=self._secure(request), path="/dashboard")

    def current(self, request: web.Request) -> dict | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 100:
            return None
        return self.consultants.session(_token_hash(token), self.clock())

    def require(self, request: web.Request) -> dict:
        session = self.current(request)
        if session is None:
            response = web.HTTPSeeOther("/dashboard/login")
            if request.method == "GET":  # after the login, back to the page asked for
                self._set_cookie(request, response, NEXT_COOKIE, request.path, 900)
            raise response
        return session

    async def form(self, request: web.Request, session: dict | None) -> dict[str, str]:
        """The posted form, after the origin, size and CSRF checks."""
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            # A browser names the page a form came from; one from another site is refused outright.
            log.warning("dashboard form from another origin refused (%s)", request.path)
            raise web.HTTPForbidden(text="Formularen kom fra en anden side.")
        # The body itself is measured: a chunked request has no Content-Length to check.
        size = request.content_length if request.content_length is not None else len(await request.read())
        if size > MAX_FORM_BYTES:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM_BYTES, actual_size=size)
        try:
            data = await request.post()
        except ValueError:
            raise web.HTTPBadRequest(text="Formularen kunne ikke læses.") from None
        form = {k: v for k, v in data.items() if isinstance(v, str)}
        expected = session["csrf_token"] if session else request.cookies.get(LOGIN_CSRF_COOKIE, "")
        given = form.get("csrf", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning("dashboard form without a valid CSRF token refused (%s)", request.path)
            raise web.HTTPForbidden(
                text="Formularen er udløbet eller ugyldig. Gå tilbage, genindlæs siden og prøv igen.")
        return form

    # -- login ----------------------------------------------------------------------------------------

    async def login_page(self, request: web.Request, error: str = "", status: int = 200,
                         name: str = "") -> web.Response:
        csrf = secrets.token_urlsafe(24)
        response = aiohttp_jinja2.render_template("login.html", request, {"csrf": csrf, "error": error,
                                                                          "name": name}, status=status)
        self._set_cookie(request, response, LOGIN_CSRF_COOKIE, csrf, 3600)
        return response

    async def login(self, request: web.Request) -> web.Response:
        form = await self.form(request, None)
        name = form.get("name", "").strip()[:100]
        password = form.get("password", "")
        now = self.clock()
        address = self.client_address(request)
        keys = [f"name:{name.lower()}", f"ip:{address}"]
        wait = self._login_wait(keys, now)
        if wait > 0:
            log.warning("dashboard login for %r from %s refused: %d s to wait after failed logins", name, address, wait)
            response = await self.login_page(
                request, f"For mange forkerte forsøg. Vent {wait} sekunder, og prøv igen.", 429)
            response.headers["Retry-After"] = str(wait)
            return response
        if self._hash_slots.locked():
            log.warning("dashboard login for %r from %s refused: too many logins at once", name, address)
            return await self.login_page(request, "Der er travlt lige nu. Prøv igen om lidt.", 503)
        consultant = self.consultants.consultant_by_name(name)
        valid = False
        if len(password) <= MAX_PASSWORD:
            async with self._hash_slots:
                valid = await asyncio.get_running_loop().run_in_executor(
                    self._hashing, campaign_rules.verify_password,
                    consultant["password_hash"] if consultant else DUMMY_HASH, password)
        if consultant is None or not valid:
            for key in [*keys, GLOBAL_KEY]:
                self.consultants.record_login_failure(key, now)
            log.info("dashboard login failed for %r from %s", name, address)
            return await self.login_page(request, "Forkert navn eller adgangskode.", 401, name=name)
        self.consultants.clear_login_failures(keys[0])
        token = secrets.token_urlsafe(32)
        self.consultants.create_session(_token_hash(token), consultant["id"], secrets.token_urlsafe(24), now,
                                    now + SESSION_LIFETIME)
        response = web.HTTPSeeOther(_page_after_login(request.cookies.get(NEXT_COOKIE, "")))
        response.del_cookie(NEXT_COOKIE, path="/dashboard")
        self._set_cookie(request, response, SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds()))
        response.del_cookie(LOGIN_CSRF_COOKIE, path="/dashboard")
        raise response

    def _login_wait(self, keys: list[str], now: datetime) -> int:
        """Seconds this login must still wait because of earlier failures (0: go ahead)."""
        if self.consultants.login_failures_since(GLOBAL_KEY, now - GLOBAL_WINDOW) >= GLOBAL_FAILURES:
            return int(GLOBAL_WINDOW.total_seconds())
        wait = 0.0
        for key, free in zip(keys, (FREE_FAILURES, FREE_FAILURES * 4), strict=True):
            count, last = self.consultants.last_login_failures(key, now - FAILURE_WINDOW)
            if last is not None and count >= free:
                # Times are stored to the second: 2 s is at least 1 s.
                delay = timedelta(seconds=min(2 ** (count - free + 1), MAX_DELAY))
                wait = max(wait, (last + delay - now).total_seconds())
        return math.ceil(wait)

    async def logout(self, request: web.Request) -> web.Response:
        session = self.require(request)
        await self.form(request, session)
        self.consultants.delete_session(_token_hash(request.cookies[SESSION_COOKIE]))
        response = web.HTTPSeeOther("/dashboard/login")
        response.del_cookie(SESSION_COOKIE, path="/dashboard")
        raise response

    # -- pages ------------------------------------------------------------------------------------------

    def render(self, name: str, request: web.Request, session: dict, **context: object) -> web.Response:
        response = aiohttp_jinja2.render_template(name, request, {"session": session, **context})
        response.headers["Cache-Control"] = "no-store"
        return response

    async def home(self, request: web.Request) -> web.Response:
        session = self.require(request)
        consultant = self.consultants.consultant_by_name(session["name"])
        return self.render("home.html", request, session,
                           cohorts=self.cohorts.cohorts_of(session["consultant_id"]),
                           campaigns=self.campaign_store.campaigns_of_consultant(session["consultant_id"]),
                           link_code=consultant["link_code"], linked=consultant["telegram_user_id"] is not None,
                           bot_username=self.bot_username())

    async def create_cohort(self, request: web.Request) -> web.Response:
        session = self.require(request)
        form = await self.form(request, session)
        name = " ".join(form.get("name", "").split())[:120]
        if not name:
            raise web.HTTPBadRequest(text="Holdet skal have et navn.")
        expires = _parse_date(form.get("expires", ""))
        cohort_id = self.cohorts.create_cohort(
            session["consultant_id"], name, campaign_rules.new_code(), self.clock(),
            datetime.combine(expires, time(23, 59), tzinfo=self.campaigns.timezone) if expires else None)
        raise web.HTTPSeeOther(f"/dashboard/cohorts/{cohort_id}")

    def _cohort(self, request: web.Request, session: dict) -> dict:
        cohort = self.cohorts.cohort(int(request.match_info["cohort_id"]), session["consultant_id"])
        if cohort is None:
            raise web.HTTPNotFound(text="Det hold findes ikke.")
        return cohort

    async def cohort_page(self, request: web.Request) -> web.Response:
        session = self.require(request)
        cohort = self._cohort(request, session)
        link = campaign_rules.invitation_link(self.bot_username(), cohort["code"])
        return self.render("cohort.html", request, session, cohort=cohort, link=link,
                           members=self.cohorts.cohort_members(cohort["id"]),
                           campaigns=self.campaign_store.campaigns_of_cohort(cohort["id"]),
                           announcements=self.cohorts.announcements_of_cohort(cohort["id"]),
                           **self.form_context(None))

    async def cohort_qr(self, request: web.Request) -> web.Response:
        session = self.require(request)
        cohort = self._cohort(request, session)
        svg = campaign_rules.qr_svg(campaign_rules.invitation_link(self.bot_username(), cohort["code"]))
        return web.Response(text=svg, content_type="image/svg+xml")

    async def create_campaign(self, request: web.Request) -> web.Response:
        session = self.require(request)
        cohort = self._cohort(request, session)
        fields = await self.posted_campaign(request, session)
        campaign_id = self.campaign_store.create_campaign(cohort["id"], self.clock(), **fields)
        self.save_intro(cohort["id"], campaign_id, fields)
        raise web.HTTPSeeOther(f"/dashboard/campaigns/{campaign_id}")

    async def create_announcement(self, request: web.Request) -> web.Response:
        session = self.require(request)
        cohort = self._cohort(request, session)
        form = await self.form(request, session)
        text = form.get("text", "").strip()
        if not text or len(text) > 1000:
            raise web.HTTPBadRequest(text="Beskeden skal have 1 til 1000 tegn.")
        now = self.clock()
        send_at = now
        if form.get("send_at"):
            try:
                send_at = datetime.fromisoformat(form["send_at"]).replace(tzinfo=self.campaigns.timezone)
            except ValueError:
                raise web.HTTPBadRequest(text="Tidspunktet kunne ikke læses.") from None
        # Never in quiet hours: a message for the night waits until the morning.
        self.cohorts.create_announcement(cohort["id"], text,
                                         outside_quiet_hours(max(send_at, now), self.campaigns.timezone), now)
        raise web.HTTPSeeOther(f"/dashboard/cohorts/{cohort['id']}")

    def today(self) -> str:
        return self.clock().astimezone(self.campaigns.timezone).date().isoformat()

    def _campaign(self, request: web.Request, session: dict) -> dict:
        campaign = self.campaign_store.campaign(int(request.match_info["campaign_id"]), session["consultant_id"])
        if campaign is None:
            raise web.HTTPNotFound(text="Den kampagne findes ikke.")
        return campaign

    async def campaign_page(self, request: web.Request) -> web.Response:
        session = self.require(request)
        campaign = self._campaign(request, session)
        results = self.campaigns.results(campaign, self.clock())
        return self.render("campaign.html", request, session, campaign=campaign, results=results,
                           tables=CSV_TABLES)

    async def campaign_status(self, request: web.Request) -> web.Response:
        session = self.require(request)
        campaign = self._campaign(request, session)
        form = await self.form(request, session)
        status = form.get("status")
        if status not in campaign_rules.STATUSES or campaign["status"] == "ended":
            raise web.HTTPBadRequest(text="Den ændring er ikke mulig.")
        self.campaign_store.set_campaign_status(campaign["id"], status)
        raise web.HTTPSeeOther(f"/dashboard/campaigns/{campaign['id']}")

    async def retention_chart(self, request: web.Request) -> web.Response:
        session = self.require(request)
        campaign = self._campaign(request, session)
        from bot.web.charts import retention_chart

        results = self.campaigns.results(campaign, self.clock())
        return web.Response(body=retention_chart(retention_points(results, self.today())), content_type="image/png")

    async def export_csv(self, request: web.Request) -> web.Response:
        session = self.require(request)
        campaign = self._campaign(request, session)
        table = request.match_info["table"]
        if table not in CSV_TABLES:
            raise web.HTTPNotFound()
        if table == "drafts":  # the cohort's 'Tjek mit udkast' counts in the campaign's period, as on its page
            drafts = self.campaigns.drafts
            header, rows = draft_rows(drafts.cohort_counts(campaign["cohort_id"], campaign["start_date"],
                                                           campaign["end_date"]) if drafts else [])
        else:
            results = self.campaigns.results(campaign, self.clock())
            header, rows = csv_rows(table, results, self.campaigns.timezone, self.today())
        filename = f"kampagne-{campaign['id']}-{table}.csv"
        return web.Response(body=write_csv(header, rows, csv_safe), content_type="text/csv",
                            charset="utf-8", headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    async def telegram_link(self, request: web.Request) -> web.Response:
        session = self.require(request)
        await self.form(request, session)
        self.consultants.set_link_code(session["consultant_id"], campaign_rules.new_link_code(self.clock()))
        raise web.HTTPSeeOther("/dashboard/")


def _page_after_login(asked_for: str) -> str:
    """The page asked for before logging in, if it is a dashboard page; else the overview."""
    if re.fullmatch(r"/dashboard/[A-Za-z0-9_\-/.]{0,200}", asked_for) and "//" not in asked_for \
            and ".." not in asked_for and not asked_for.startswith("/dashboard/login"):
        return asked_for
    return "/dashboard/"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


SECURITY_HEADERS = {
    # The pages carry small inline scripts and styles, so those stay allowed; anything from another
    # origin (scripts, styles, images, connections) is not, nor framing, plugins or foreign form targets.
    "Content-Security-Policy": ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
                                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; "
                                "base-uri 'none'; form-action 'self'; object-src 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
