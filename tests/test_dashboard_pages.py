"""The dashboard's campaign pages in process, with a clock the test sets (issue 19): local dates and
times, hand-picked questions in the consultant's order, editing a campaign and a cohort, the
confirmation before ending, styled error pages, CSV for Danish Excel, QR downloads, and
announcements kept out of quiet hours."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.services.campaigns import Campaigns, hash_password
from bot.storage import Storage
from bot.web.dashboard import Dashboard
from knowledge.articles import load_articles
from quizzes.bank import load_bank

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)  # Monday 08:30 in Copenhagen


@pytest.fixture(scope="module")
def bank() -> list:
    articles, _ = load_articles()
    questions, _ = load_bank(article_ids=[a.id for a in articles])
    return questions


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def client(tmp_path: Path, bank: list) -> AsyncIterator[tuple[TestClient, Storage, Clock]]:
    storage = Storage(tmp_path / "bot.sqlite3")
    storage.consultants.add_consultant("mette", hash_password("mette-et-langt-kodeord"), NOW)
    clock = Clock()
    app = web.Application()
    service = Campaigns(storage.cohorts, storage.campaigns, storage.quizzes, bank, CPH)
    Dashboard(storage.consultants, storage.cohorts, storage.campaigns, service, clock, lambda: "bot").add_routes(app)
    async with TestClient(TestServer(app)) as test_client:
        page = await test_client.get("/dashboard/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
        await test_client.post("/dashboard/login", data={"csrf": csrf, "name": "mette",
                                                        "password": "mette-et-langt-kodeord"})
        yield test_client, storage, clock
    storage.close()


async def csrf_of(client: TestClient, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', await (await client.get(path)).text()).group(1)


async def new_cohort(client: TestClient) -> str:
    csrf = await csrf_of(client, "/dashboard/")
    response = await client.post("/dashboard/cohorts", data={"csrf": csrf, "name": "Kolding"}, allow_redirects=False)
    return response.headers["Location"]


async def test_hand_picked_questions_in_the_consultants_order_and_local_times(
        client: tuple[TestClient, Storage, Clock], bank: list) -> None:
    test_client, storage, _ = client
    cohort = await new_cohort(test_client)
    page = await (await test_client.get(cohort)).text()
    assert 'id="question-browser"' in page and page.count('class="question-row"') == len(bank)
    first, second = bank[5].id, bank[100].id
    csrf = await csrf_of(test_client, cohort)
    response = await test_client.post(f"{cohort}/campaigns", data=[
        ("csrf", csrf), ("name", "Håndplukket"), ("question_ids", first), ("question_ids", second),
        ("question_order", f"{second},{first}"), ("start_date", "2027-03-01"), ("end_date", "2027-03-28"),
        ("weekdays", "0"), ("weekdays", "2"), ("weekdays", "4"), ("push_time", "08:30"), ("per_push", "2"),
        ("intro", "Velkommen!")], allow_redirects=False)
    assert response.status == 303
    campaign_path = response.headers["Location"]
    campaign = storage.campaigns.campaign(int(campaign_path.rsplit("/", 1)[1]))
    assert campaign["question_ids"] == f"{second},{first}"
    page = await (await test_client.get(campaign_path)).text()
    assert "01.03.2027 – 28.03.2027" in page and "mandag, onsdag, fredag kl. 08.30" in page
    intro = storage.cohorts.campaign_intro(campaign["id"])
    assert intro["send_at"] == "2027-03-01T07:30:00+00:00"
    cohort_page = await (await test_client.get(cohort)).text()
    assert "01.03.2027 kl. 08.30" in cohort_page  # the intro, listed in local time


async def test_edit_a_campaign_and_confirm_before_ending(client: tuple[TestClient, Storage, Clock]) -> None:
    test_client, storage, _ = client
    cohort = await new_cohort(test_client)
    csrf = await csrf_of(test_client, cohort)
    response = await test_client.post(f"{cohort}/campaigns", data=[
        ("csrf", csrf), ("name", "Før"), ("areas", "digital"), ("start_date", "2027-03-01"),
        ("end_date", "2027-03-28"), ("weekdays", "1"), ("push_time", "09:00"), ("per_push", "3")],
        allow_redirects=False)
    path = response.headers["Location"]
    edit = await (await test_client.get(f"{path}/edit")).text()
    assert 'value="Før"' in edit
    response = await test_client.post(f"{path}/edit", data=[
        ("csrf", csrf), ("name", "Efter"), ("areas", "politikerbetjening"), ("areas", "digital"),
        ("start_date", "2027-03-02"), ("end_date", "2027-04-30"), ("weekdays", "6"), ("push_time", "10:15"),
        ("per_push", "4"), ("intro", "Hej hold")], allow_redirects=False)
    assert response.status == 303
    campaign = storage.campaigns.campaign(int(path.rsplit("/", 1)[1]))
    assert (campaign["name"], campaign["areas"], campaign["weekdays"], campaign["push_time"], campaign["per_push"]) \
        == ("Efter", "politikerbetjening,digital", "6", "10:15", 4)
    page = await (await test_client.get(path)).text()
    assert f'href="{path}/end"' in page and 'value="ended"' not in page  # "Afslut" asks first
    confirm = await (await test_client.get(f"{path}/end")).text()
    assert "Afslut kampagnen?" in confirm and 'value="ended"' in confirm
    await test_client.post(f"{path}/status", data={"csrf": csrf, "status": "ended"})
    assert storage.campaigns.campaign(campaign["id"])["status"] == "ended"


async def test_edit_a_cohort_with_a_new_link(client: tuple[TestClient, Storage, Clock]) -> None:
    test_client, storage, _ = client
    cohort = await new_cohort(test_client)
    cohort_id = int(cohort.rsplit("/", 1)[1])
    old_code = storage.cohorts.cohort(cohort_id, 1)["code"]
    csrf = await csrf_of(test_client, f"{cohort}/edit")
    await test_client.post(f"{cohort}/edit", data={"csrf": csrf, "name": "Vejle", "expires": "2027-06-30",
                                                   "new_link": "1"})
    row = storage.cohorts.cohort(cohort_id, 1)
    assert row["name"] == "Vejle" and row["code"] != old_code and row["expires_at"].startswith("2027-06-30")
    page = await (await test_client.get(cohort)).text()
    assert "30.06.2027" in page and "Kopiér link" in page
    png = await test_client.get(f"{cohort}/qr.png")
    assert png.content_type == "image/png" and (await png.read())[:4] == b"\x89PNG"


async def test_errors_are_styled_pages_with_a_way_back(client: tuple[TestClient, Storage, Clock]) -> None:
    test_client, _, _ = client
    response = await test_client.get("/dashboard/campaigns/999")
    text = await response.text()
    assert response.status == 404 and "Den kampagne findes ikke." in text and "← Tilbage" in text
    assert "<header>" in text  # the dashboard's own layout


async def test_an_announcement_for_the_night_waits_until_morning(client: tuple[TestClient, Storage, Clock]) -> None:
    test_client, storage, _ = client
    cohort = await new_cohort(test_client)
    csrf = await csrf_of(test_client, cohort)
    page = await (await test_client.get(cohort)).text()
    assert "sendes aldrig mellem kl. 21 og 7" in page
    await test_client.post(f"{cohort}/announcements", data={"csrf": csrf, "text": "Nat", "send_at": "2027-03-02T03:15"})
    announcement = storage.cohorts.announcements_of_cohort(int(cohort.rsplit("/", 1)[1]))[0]
    assert datetime.fromisoformat(announcement["send_at"]).astimezone(CPH) == datetime(2027, 3, 2, 7, 0, tzinfo=CPH)


async def test_csv_for_danish_excel(client: tuple[TestClient, Storage, Clock], bank: list) -> None:
    test_client, storage, clock = client
    cohort = await new_cohort(test_client)
    csrf = await csrf_of(test_client, cohort)
    response = await test_client.post(f"{cohort}/campaigns", data=[
        ("csrf", csrf), ("name", "Tal"), ("areas", "digital"), ("start_date", "2027-03-01"),
        ("end_date", "2027-03-28"), ("weekdays", "0"), ("push_time", "09:00"), ("per_push", "3")],
        allow_redirects=False)
    campaign_id = int(response.headers["Location"].rsplit("/", 1)[1])
    question = next(q for q in bank if q.area == "digital")
    storage.learners.touch_learner(77, 77, NOW)
    storage.cohorts.enrol(int(cohort.rsplit("/", 1)[1]), 77, NOW)
    for index, correct in enumerate((True, False, True)):
        storage.conn.execute(
            "INSERT INTO answers (user_id, question_id, area, chosen_option, correct, answered_at, campaign_id)"
            " VALUES (77, ?, 'digital', 0, ?, ?, ?)",
            (question.id, int(correct), (NOW + timedelta(minutes=index)).isoformat(), campaign_id))
    clock.now = NOW + timedelta(hours=1)
    areas = (await (await test_client.get(f"/dashboard/campaigns/{campaign_id}/export/areas.csv")).read()).decode()
    assert "Digital" in areas and ";0,667" in areas
    learners = (await (await test_client.get(f"/dashboard/campaigns/{campaign_id}/export/learners.csv")).read())
    assert "01.03.2027 kl. 08.32" in learners.decode()  # the last answer, in local time
    page = await (await test_client.get(f"/dashboard/campaigns/{campaign_id}")).text()
    assert "for tidligt at sige" in page  # three answers: no predicted retention yet


async def test_login_returns_to_the_page_asked_for_and_keeps_the_name(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "login.sqlite3")
    storage.consultants.add_consultant("mette", hash_password("mette-et-langt-kodeord"), NOW)
    app = web.Application()
    Dashboard(storage.consultants, storage.cohorts, storage.campaigns,
              Campaigns(storage.cohorts, storage.campaigns, storage.quizzes, [], CPH), Clock(),
              lambda: "bot").add_routes(app)
    async with TestClient(TestServer(app)) as test_client:
        asked = await test_client.get("/dashboard/cohorts/3", allow_redirects=False)
        assert asked.headers["Location"] == "/dashboard/login"
        csrf = await csrf_of(test_client, "/dashboard/login")
        wrong = await test_client.post("/dashboard/login", data={"csrf": csrf, "name": "mette", "password": "forkert"})
        assert wrong.status == 401 and 'value="mette"' in await wrong.text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', await wrong.text()).group(1)
        right = await test_client.post("/dashboard/login", data={"csrf": csrf, "name": "mette",
                                                                 "password": "mette-et-langt-kodeord"},
                                       allow_redirects=False)
        assert right.headers["Location"] == "/dashboard/cohorts/3"
    storage.close()


async def test_the_retention_chart_and_its_csv_agree(client: tuple[TestClient, Storage, Clock]) -> None:
    test_client, _, _ = client
    cohort = await new_cohort(test_client)
    csrf = await csrf_of(test_client, cohort)
    response = await test_client.post(f"{cohort}/campaigns", data=[
        ("csrf", csrf), ("name", "Graf"), ("areas", "digital"), ("start_date", "2027-03-01"),
        ("end_date", "2027-03-28"), ("weekdays", "0"), ("push_time", "09:00"), ("per_push", "3")],
        allow_redirects=False)
    path = response.headers["Location"]
    chart = await test_client.get(f"{path}/retention.png")
    assert chart.status == 200 and (await chart.read())[:4] == b"\x89PNG"
    csv_text = (await (await test_client.get(f"{path}/export/retention.csv")).read()).decode("utf-8-sig")
    assert csv_text.splitlines() == ["dag;område;forventet husket;deltagere"]  # no data yet: no points


async def test_a_form_posted_from_another_site_is_refused(client: tuple[TestClient, Storage, Clock]) -> None:
    test_client, storage, _ = client
    cohort = await new_cohort(test_client)
    cohort_id = int(cohort.rsplit("/", 1)[1])
    csrf = await csrf_of(test_client, f"{cohort}/edit")
    refused = await test_client.post(f"{cohort}/edit", data={"csrf": csrf, "name": "Overtaget"},
                                     headers={"Origin": "https://evil.example"})
    assert refused.status == 403 and storage.cohorts.cohort(cohort_id, 1)["name"] != "Overtaget"
    own = f"http://{test_client.host}:{test_client.port}"
    accepted = await test_client.post(f"{cohort}/edit", data={"csrf": csrf, "name": "Vejle"}, headers={"Origin": own})
    assert accepted.status in (200, 303) and storage.cohorts.cohort(cohort_id, 1)["name"] == "Vejle"


async def test_huge_ids_in_the_edit_pages_are_not_found(client: tuple[TestClient, Storage, Clock]) -> None:
    test_client, _, _ = client
    for path in ("/dashboard/cohorts/99999999999999999999999/edit", "/dashboard/campaigns/99999999999999999999999/end"):
        assert (await test_client.get(path)).status == 404
