"""The consultant sees the cohort's anonymous 'Tjek mit udkast' counts beside the quiz results."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.services.campaigns import Campaigns, hash_password
from bot.storage import Storage
from bot.web.dashboard import Dashboard

NOW = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)


async def test_campaign_page_shows_what_the_cohorts_drafts_lacked(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "bot.sqlite3")
    storage.consultants.add_consultant("mette", hash_password("mette-et-langt-kodeord"), NOW)
    service = Campaigns(storage.cohorts, storage.campaigns, storage.quizzes, [], ZoneInfo("Europe/Copenhagen"))
    service.drafts = storage.drafts
    app = web.Application()
    dashboard = Dashboard(storage.consultants, storage.cohorts, storage.campaigns, service, lambda: NOW, lambda: "bot")
    dashboard.add_routes(app)
    async with TestClient(TestServer(app)) as client:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await (await client.get("/dashboard/login")).text()).group(1)
        await client.post("/dashboard/login",
                          data={"csrf": csrf, "name": "mette", "password": "mette-et-langt-kodeord"})
        home = await (await client.get("/dashboard/")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', home).group(1)
        cohort_path = (await client.post("/dashboard/cohorts", data={"csrf": csrf, "name": "Kolding"},
                                         allow_redirects=False)).headers["Location"]
        response = await client.post(f"{cohort_path}/campaigns", data=[
            ("csrf", csrf), ("name", "Forår"), ("areas", "digital"), ("start_date", "2027-03-01"),
            ("end_date", "2027-03-28"), ("weekdays", "0"), ("push_time", "09:00"), ("per_push", "3")],
            allow_redirects=False)
        campaign_path = response.headers["Location"]
        page = await (await client.get(campaign_path)).text()
        assert "Ingen udkast tjekket endnu." in page
        cohort_id = int(cohort_path.rsplit("/", 1)[1])
        storage.drafts.record([cohort_id], "2027-03-02", "afgoerelse", {"klagevejledning": True, "regler": False})
        storage.drafts.record([cohort_id], "2027-03-03", "afgoerelse", {"klagevejledning": False, "regler": False})
        storage.drafts.record([cohort_id], "2027-04-03", "afgoerelse", {"klagevejledning": True})  # after the campaign
        page = await (await client.get(campaign_path)).text()
        assert "Klagevejledning" in page and "mangler i 1 af 2 tjekkede afgørelser" in page
        assert "Begrundelsen nævner reglerne" not in page  # never missing: not a training need
    storage.close()
