"""The consultant sees the cohort's anonymous 'Tjek mit udkast' counts beside the quiz results, and
can download them as CSV."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.services.campaigns import Campaigns, hash_password
from bot.storage import Storage
from bot.web.dashboard import Dashboard

NOW = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)


@pytest.fixture
async def dashboard(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Storage]]:
    storage = Storage(tmp_path / "bot.sqlite3")
    for name in ("mette", "jonas"):
        storage.consultants.add_consultant(name, hash_password(f"{name}-et-langt-kodeord"), NOW)
    service = Campaigns(storage.cohorts, storage.campaigns, storage.quizzes, [], ZoneInfo("Europe/Copenhagen"))
    service.drafts = storage.drafts
    app = web.Application()
    dashboard = Dashboard(storage.consultants, storage.cohorts, storage.campaigns, service, lambda: NOW, lambda: "bot")
    dashboard.add_routes(app)
    async with TestClient(TestServer(app)) as client:
        yield client, storage
    storage.close()


async def log_in(client: TestClient, name: str) -> str:
    """Log in; the CSRF token of the session."""
    csrf = re.search(r'name="csrf" value="([^"]+)"', await (await client.get("/dashboard/login")).text()).group(1)
    await client.post("/dashboard/login", data={"csrf": csrf, "name": name, "password": f"{name}-et-langt-kodeord"})
    return re.search(r'name="csrf" value="([^"]+)"', await (await client.get("/dashboard/")).text()).group(1)


async def new_campaign(client: TestClient, csrf: str) -> tuple[int, str]:
    """A cohort with a campaign in March 2027: the cohort's id and the campaign page's path."""
    cohort_path = (await client.post("/dashboard/cohorts", data={"csrf": csrf, "name": "Kolding"},
                                     allow_redirects=False)).headers["Location"]
    response = await client.post(f"{cohort_path}/campaigns", data=[
        ("csrf", csrf), ("name", "Forår"), ("areas", "digital"), ("start_date", "2027-03-01"),
        ("end_date", "2027-03-28"), ("weekdays", "0"), ("push_time", "09:00"), ("per_push", "3")],
        allow_redirects=False)
    return int(cohort_path.rsplit("/", 1)[1]), response.headers["Location"]


async def test_campaign_page_shows_what_the_cohorts_drafts_lacked(dashboard: tuple[TestClient, Storage]) -> None:
    client, storage = dashboard
    cohort_id, campaign_path = await new_campaign(client, await log_in(client, "mette"))
    page = await (await client.get(campaign_path)).text()
    assert "Ingen udkast tjekket endnu." in page
    assert 'export/drafts.csv">Hent' not in page  # nothing to download yet
    storage.drafts.record([cohort_id], "2027-03-02", "afgoerelse", {"klagevejledning": True, "regler": False})
    storage.drafts.record([cohort_id], "2027-03-03", "afgoerelse", {"klagevejledning": False, "regler": False})
    storage.drafts.record([cohort_id], "2027-04-03", "afgoerelse", {"klagevejledning": True})  # after the campaign
    page = await (await client.get(campaign_path)).text()
    assert "Klagevejledning" in page and "mangler i 1 af 2 tjekkede afgørelser" in page
    assert "Begrundelsen nævner reglerne" not in page  # never missing: not a training need


async def test_the_draft_counts_download_as_csv(dashboard: tuple[TestClient, Storage]) -> None:
    client, storage = dashboard
    cohort_id, campaign_path = await new_campaign(client, await log_in(client, "mette"))
    storage.drafts.record([cohort_id], "2027-03-02", "afgoerelse", {"klagevejledning": True, "regler": False})
    storage.drafts.record([cohort_id], "2027-03-03", "afgoerelse", {"klagevejledning": False, "regler": False})
    storage.drafts.record([cohort_id], "2027-03-04", "afgoerelse", {"klagevejledning": True, "regler": False})
    storage.drafts.record([cohort_id], "2027-03-05", "sagsfremstilling", {"oekonomi": True})
    storage.drafts.record([cohort_id], "2027-04-03", "afgoerelse", {"klagevejledning": True})  # after the campaign
    # An item no checklist knows any more is shown by its id, which is text a spreadsheet must not run.
    storage.drafts.record([cohort_id], "2027-03-06", "afgoerelse", {"=HYPERLINK(\"http://x\")": True})

    page = await (await client.get(campaign_path)).text()
    csv_path = f"{campaign_path}/export/drafts.csv"
    assert page.count(f'href="{csv_path}"') == 2  # beside the counts, and with the other exports

    response = await client.get(csv_path)
    assert response.status == 200 and response.content_type == "text/csv"
    campaign_id = campaign_path.rsplit("/", 1)[1]
    assert response.headers["Content-Disposition"] == f'attachment; filename="kampagne-{campaign_id}-drafts.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.read()
    assert body.startswith("\ufeff".encode())  # as the other exports: what Danish Excel opens as a table
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "udkast;punkt-id;punkt på tjeklisten;tjekkede udkast;mangler;andel mangler"
    assert lines[1:] == [
        "Afgørelse / brev til borger;\"'=HYPERLINK(\"\"http://x\"\")\";\"'=HYPERLINK(\"\"http://x\"\")\";1;1;1,000",
        "Afgørelse / brev til borger;klagevejledning;Klagevejledning;3;2;0,667",
        "Afgørelse / brev til borger;regler;Begrundelsen nævner reglerne;3;0;0,000",  # never missing: still there
        "Sagsfremstilling / dagsordenspunkt;oekonomi;Økonomi;1;1;1,000",
    ]


async def test_only_the_cohorts_consultant_gets_its_draft_counts(dashboard: tuple[TestClient, Storage]) -> None:
    client, storage = dashboard
    cohort_id, campaign_path = await new_campaign(client, await log_in(client, "mette"))
    storage.drafts.record([cohort_id], "2027-03-02", "afgoerelse", {"klagevejledning": True})
    csv_path = f"{campaign_path}/export/drafts.csv"
    assert (await client.get(csv_path)).status == 200
    client.session.cookie_jar.clear()
    logged_out = await client.get(csv_path, allow_redirects=False)
    assert logged_out.status in (302, 303) and logged_out.headers["Location"] == "/dashboard/login"
    await log_in(client, "jonas")
    assert (await client.get(csv_path)).status == 404
