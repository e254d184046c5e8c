"""The dashboard's campaign and cohort editing, the question browser, the end confirmation, the
invitation's QR downloads, local dates and times, CSV for Danish Excel, and styled error pages.

A mixin of `Dashboard` (bot/web/dashboard.py), which provides the session, form and scope checks
(`require`, `form`, `render`, `_cohort`, `_campaign`) and the services.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
import segno
from aiohttp import web

from bot.services import campaigns as campaign_rules
from bot.services.campaigns import CampaignResults, Campaigns
from quizzes.bank import AREAS
from quizzes.pushes import outside_quiet_hours

log = logging.getLogger(__name__)
WEEKDAYS_LONG = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")

# Dashboard paths with an id: at most 18 digits, so every id fits SQLite's integers (a longer one is a 404).
COHORT_PATH = r"/dashboard/cohorts/{cohort_id:\d{1,18}}"
CAMPAIGN_PATH = r"/dashboard/campaigns/{campaign_id:\d{1,18}}"


# -- dates, times and numbers as Danes read them ---------------------------------------------------------

def local_moment(value: str | datetime | None, timezone: ZoneInfo) -> datetime | None:
    if not value:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.astimezone(timezone) if moment.tzinfo else moment


def danish_date(value: str | date | datetime | None, timezone: ZoneInfo) -> str:
    """"2027-03-01" or a stored UTC timestamp -> "01.03.2027" (timestamps in local time)."""
    if not value:
        return "–"
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if isinstance(value, (datetime, str)):
        value = local_moment(value, timezone)
    return f"{value:%d.%m.%Y}"


def danish_time(value: str | datetime | None, timezone: ZoneInfo) -> str:
    """A stored UTC timestamp -> "01.03.2027 kl. 08.30" in local time."""
    moment = local_moment(value, timezone)
    return f"{moment:%d.%m.%Y} kl. {moment:%H.%M}" if moment else "–"


def excel_value(value: object) -> object:
    """Numbers with a decimal comma, so that Danish Excel reads them as numbers."""
    if isinstance(value, float):
        return f"{value:.3f}".replace(".", ",")
    return value


def days_text(weekdays: str) -> str:
    days = [int(d) for d in weekdays.split(",") if d]
    if days == [0, 1, 2, 3, 4]:
        return "mandag–fredag"
    if len(days) == 7:
        return "alle dage"
    return ", ".join(WEEKDAYS_LONG[d] for d in days) or "ingen dage"


def install_filters(env: jinja2.Environment, timezone: ZoneInfo) -> None:
    env.filters["dato"] = lambda v: danish_date(v, timezone)
    env.filters["tid"] = lambda v: danish_time(v, timezone)
    env.filters["dage"] = days_text
    env.filters["klokken"] = lambda v: v.replace(":", ".") if v else "–"


# -- the campaign form ---------------------------------------------------------------------------------

def campaign_fields(form: Mapping[str, str], areas: list[str], weekdays: list[str], picked_boxes: list[str],
                    questions: Mapping[str, Any]) -> tuple[dict[str, object], list[str]]:
    """The campaign's columns from the posted form, and what is wrong with it (Danish)."""
    name = " ".join(form.get("name", "").split())[:120]
    start, end = _parse_date(form.get("start_date", "")), _parse_date(form.get("end_date", ""))
    push_time = form.get("push_time", "")
    # The browser keeps the order in which questions were ticked; without JavaScript, the boxes' order.
    ordered = [q for q in form.get("question_order", "").split(",") if q in picked_boxes]
    picked = list(dict.fromkeys(ordered + [q for q in picked_boxes if q not in ordered]))
    days = sorted({int(d) for d in weekdays if d in ("0", "1", "2", "3", "4", "5", "6")})
    problems = []
    if not name:
        problems.append("Kampagnen skal have et navn.")
    if start is None or end is None or end < start:
        problems.append("Vælg en startdato og en slutdato efter den.")
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", push_time) or not "07:00" <= push_time <= "20:30":
        problems.append("Tidspunktet skal være mellem 07:00 og 20:30.")
    if not days:
        problems.append("Vælg mindst én ugedag.")
    unknown = [q for q in picked if q not in questions]
    if unknown:
        problems.append("Ukendte spørgsmål: " + ", ".join(unknown[:10]))
    # fullmatch on ASCII digits: str.isdigit() also accepts "²", which int() refuses.
    per_push = int(form["per_push"]) if re.fullmatch(r"[0-9]{1,2}", form.get("per_push", "")) else 0
    if not 1 <= per_push <= 10:
        problems.append("Antal spørgsmål pr. gang skal være mellem 1 og 10.")
    fields: dict[str, object] = {
        "name": name, "areas": ",".join(a for a in areas if a in AREAS), "question_ids": ",".join(picked),
        "start_date": start.isoformat() if start else "", "end_date": end.isoformat() if end else "",
        "weekdays": ",".join(map(str, days)), "push_time": push_time, "per_push": per_push,
        "intro": form.get("intro", "").strip()[:1000],
    }
    return fields, problems


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def retention_points(results: CampaignResults, today: str) -> list[dict]:
    """The retention chart's points, also its CSV: the daily snapshots, with today's figure now."""
    points = [r for r in results.retention_series if r["day"] != today]
    learners = results.retention_learners
    return points + [{"day": today, "area": a, "retention": r, "learners": learners.get(a, 0)}
                     for a, r in sorted(results.retention_now.items())]


def write_csv(header: list[str], rows: list[list[object]], safe: Callable[[object], object]) -> bytes:
    """Semicolons, decimal commas and a BOM: what Danish Excel opens as a table of numbers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(header)
    writer.writerows([[safe(excel_value(v)) for v in row] for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# -- styled error pages ------------------------------------------------------------------------------------

ERROR_TITLES = {400: "Det kunne ikke lade sig gøre", 403: "Ingen adgang", 404: "Siden findes ikke",
                413: "Formularen er for stor", 500: "Der gik noget galt"}


@web.middleware
async def error_pages(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                      ) -> web.StreamResponse:
    """Dashboard errors as a page in the dashboard's style, with a way back."""
    if not request.path.startswith("/dashboard"):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        status, text = error.status, error.text or ""
    except Exception:
        log.exception("dashboard error on %s", request.path)
        status, text = 500, "Prøv igen om lidt. Sker det igen, så kontakt den, der driver botten."
    default = f"{status}: "
    message = "" if text.startswith(default) else text
    response = aiohttp_jinja2.render_template(
        "error.html", request, {"title": ERROR_TITLES.get(status, "Det kunne ikke lade sig gøre"),
                                "message": message, "back": _same_site_referer(request)}, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _same_site_referer(request: web.Request) -> str:
    referer = request.headers.get("Referer", "")
    path = referer.split(request.host, 1)[1] if request.host and request.host in referer else ""
    return path if path.startswith("/dashboard") and not path.startswith("//") else "/dashboard/"


class CampaignPages:
    """Routes for editing, confirming and downloading; mixed into Dashboard."""

    campaigns: Campaigns
    clock: Callable[[], datetime]

    def page_routes(self) -> list[web.RouteDef]:
        return [
            web.get(COHORT_PATH + "/edit", self.edit_cohort_page),
            web.post(COHORT_PATH + "/edit", self.edit_cohort),
            web.get(COHORT_PATH + "/qr.png", self.cohort_qr_png),
            web.get(COHORT_PATH + "/campaigns/new", self.new_campaign_page),
            web.get(CAMPAIGN_PATH + "/edit", self.edit_campaign_page),
            web.post(CAMPAIGN_PATH + "/edit", self.edit_campaign),
            web.get(CAMPAIGN_PATH + "/end", self.end_campaign_page),
        ]

    # -- cohorts -------------------------------------------------------------------------------------

    async def edit_cohort_page(self, request: web.Request) -> web.Response:
        session = self.require(request)
        cohort = self._cohort(request, session)
        return self.render("cohort_edit.html", request, session, cohort=cohort)

    async def edit_cohort(self, request: web.Request) -> web.Response:
        session = self.require(request)
        cohort = self._cohort(request, session)
        form = await self.form(request, session)
        name = " ".join(form.get("name", "").split())[:120]
        if not name:
            raise web.HTTPBadRequest(text="Holdet skal have et navn.")
        expires = _parse_date(form.get("expires", ""))
        if form.get("expires") and expires is None:
            raise web.HTTPBadRequest(text="Udløbsdatoen kunne ikke læses.")
        self.cohorts.update_cohort(
            cohort["id"], name, datetime.combine(expires, time(23, 59), tzinfo=self.campaigns.timezone)
            if expires else None, campaign_rules.new_code() if form.get("new_link") else None)
        raise web.HTTPSeeOther(f"/dashboard/cohorts/{cohort['id']}")

    async def cohort_qr_png(self, request: web.Request) -> web.Response:
        session = self.require(request)
        cohort = self._cohort(request, session)
        buffer = io.BytesIO()
        segno.make(campaign_rules.invitation_link(self.bot_username(), cohort["code"]), error="m").save(
            buffer, kind="png", scale=10, border=2)
        return web.Response(body=buffer.getvalue(), content_type="image/png", headers={
            "Content-Disposition": f'attachment; filename="invitation-hold-{cohort["id"]}.png"'})

    # -- campaigns -----------------------------------------------------------------------------------

    def form_context(self, campaign: dict | None) -> dict[str, object]:
        """What the campaign form needs: the question browser's rows and the current values."""
        picked = [q for q in (campaign or {}).get("question_ids", "").split(",") if q]
        today = self.clock().astimezone(self.campaigns.timezone).date()
        return {"questions": self.campaigns.bank, "picked": picked, "today": today,
                "in_four_weeks": (today + timedelta(days=28)).isoformat()}

    async def new_campaign_page(self, request: web.Request) -> web.Response:
        session = self.require(request)
        cohort = self._cohort(request, session)
        return self.render("campaign_edit.html", request, session, cohort=cohort, campaign=None,
                           **self.form_context(None))

    async def edit_campaign_page(self, request: web.Request) -> web.Response:
        session = self.require(request)
        campaign = self._campaign(request, session)
        return self.render("campaign_edit.html", request, session, cohort={"id": campaign["cohort_id"],
                           "name": campaign["cohort_name"]}, campaign=campaign, **self.form_context(campaign))

    async def posted_campaign(self, request: web.Request, session: dict) -> dict[str, object]:
        form = await self.form(request, session)
        data = await request.post()
        fields, problems = campaign_fields(
            form, [a for a in data.getall("areas", []) if isinstance(a, str)],
            [d for d in data.getall("weekdays", []) if isinstance(d, str)],
            [q for value in data.getall("question_ids", []) if isinstance(value, str)
             for q in re.split(r"[\s,]+", value) if q],
            self.campaigns.questions)
        if problems:
            raise web.HTTPBadRequest(text="\n".join(problems))
        return fields

    def save_intro(self, cohort_id: int, campaign_id: int, fields: Mapping[str, object]) -> None:
        """The welcome message goes out as an announcement at the campaign's start and time."""
        now = self.clock()
        send_at = datetime.combine(date.fromisoformat(str(fields["start_date"])),
                                   time.fromisoformat(str(fields["push_time"])), tzinfo=self.campaigns.timezone)
        self.cohorts.set_campaign_intro(cohort_id, campaign_id, str(fields["intro"]),
                                        outside_quiet_hours(max(send_at, now), self.campaigns.timezone), now)

    async def edit_campaign(self, request: web.Request) -> web.Response:
        session = self.require(request)
        campaign = self._campaign(request, session)
        if campaign["status"] == "ended":
            raise web.HTTPBadRequest(text="En afsluttet kampagne kan ikke ændres.")
        fields = await self.posted_campaign(request, session)
        self.campaign_store.update_campaign(campaign["id"], **fields)
        self.save_intro(campaign["cohort_id"], campaign["id"], fields)
        raise web.HTTPSeeOther(f"/dashboard/campaigns/{campaign['id']}")

    async def end_campaign_page(self, request: web.Request) -> web.Response:
        """"Afslut" asks first: ending cannot be undone."""
        session = self.require(request)
        campaign = self._campaign(request, session)
        return self.render("campaign_end.html", request, session, campaign=campaign)

    # (provided by Dashboard)
    require: Callable[[web.Request], dict]
    form: Callable[[web.Request, dict | None], Awaitable[dict[str, str]]]
    render: Callable[..., web.Response]
    _cohort: Callable[[web.Request, dict], dict]
    _campaign: Callable[[web.Request, dict], dict]
    bot_username: Callable[[], str]
    cohorts: Any
    campaign_store: Any
