"""The real bot, started as `python run_bot.py`, talking to the emulator over HTTP."""

import json
import sqlite3

import httpx

from tests.support import BotProcess, ChatUser, EmulatorThread, buttons


def test_commands_menu_and_descriptions_are_set_at_start(bot: BotProcess, emulator: EmulatorThread) -> None:
    commands = [c["command"] for c in emulator.emulator.state.commands]
    assert {"start", "help", "privatliv"} <= set(commands)
    assert emulator.emulator.state.description


def test_start_without_payload_welcomes_in_danish(bot: BotProcess, user: ChatUser) -> None:
    reply = user.ask("/start")
    assert "Hej Test" in reply["text"]
    assert "god forvaltning" in reply["text"]
    assert reply["parse_mode"] == "HTML"
    again = user.ask("/start")
    assert "Velkommen tilbage" in again["text"]


def test_start_with_payload_keeps_it_for_enrolment(bot: BotProcess, user: ChatUser) -> None:
    user.ask("/start kolding-byg_2027")
    with sqlite3.connect(bot.db_path) as connection:
        payload = connection.execute(
            "SELECT start_payload FROM learners WHERE user_id = ?", (user.user_id,)
        ).fetchone()[0]
    assert payload == "kolding-byg_2027"


def test_garbage_payload_is_not_stored(bot: BotProcess, user: ChatUser) -> None:
    reply = user.ask("/start <script>alert(1)</script>")
    assert "Hej" in reply["text"]
    with sqlite3.connect(bot.db_path) as connection:
        payload = connection.execute(
            "SELECT start_payload FROM learners WHERE user_id = ?", (user.user_id,)
        ).fetchone()[0]
    assert payload is None


def test_help_lists_the_commands(bot: BotProcess, user: ChatUser) -> None:
    reply = user.ask("/help")
    assert "/privatliv" in reply["text"]
    assert "/slet_mine_data" in reply["text"]


def test_privacy_says_what_is_stored_and_how_to_delete(bot: BotProcess, user: ChatUser) -> None:
    reply = user.ask("/privatliv")
    text = reply["text"]
    assert "Hvad gemmer jeg om dig?" in text
    assert "Hvor længe?" in text
    assert "/slet_mine_data" in text


def test_unknown_command_gets_a_friendly_reply(bot: BotProcess, user: ChatUser) -> None:
    reply = user.ask("/findesikke")
    assert "kender jeg ikke" in reply["text"]


def test_handler_error_is_answered_politely(bot: BotProcess, user: ChatUser, emulator: EmulatorThread) -> None:
    user.ask("/start")
    # Telegram refuses the handler's reply once: the handler fails, the error handler answers.
    emulator.add_fault("sendMessage", 400, description="Bad Request: something unexpected",
                       chat_id=user.user_id)
    reply = user.ask("/help")
    assert "der gik noget galt" in reply["text"]
    assert "error while handling update" in bot.log()


def test_export_and_delete_my_data(bot: BotProcess, user: ChatUser) -> None:
    user.ask("/start")
    assert "Det har jeg gemt om dig" in user.ask("/mine_data")["text"]  # a summary, then the file
    document = user.wait_for(lambda m: "document" in m)
    file_id = document["document"]["file_id"]
    exported = json.loads(httpx.get(f"{user.base_url}/emulator/files/{file_id}").content)
    assert exported["learner"]["user_id"] == user.user_id

    confirm = user.ask("/slet_mine_data")
    assert buttons(confirm) == ["Ja, slet alt", "Nej, behold"]
    user.press(confirm, "Ja, slet alt")
    user.wait_for_text("Dine data er slettet")
    with sqlite3.connect(bot.db_path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM learners WHERE user_id = ?",
                                  (user.user_id,)).fetchone()[0] == 0


def test_a_stale_button_is_answered(bot: BotProcess, user: ChatUser, emulator: EmulatorThread) -> None:
    message = user.ask("/slet_mine_data")
    user.press_data(message["message_id"], "quiz:answer:999999:1")
    user.ask("/help")  # handled after the button, as updates in one chat are handled in order
    answers = emulator.emulator.state.callback_answers
    assert any(a["text"] == "Den knap virker ikke længere." for a in answers.values())


def test_every_update_is_stored_and_finished(bot: BotProcess, user: ChatUser) -> None:
    user.ask("/help")
    with sqlite3.connect(bot.db_path) as connection:
        statuses = dict(connection.execute("SELECT status, COUNT(*) FROM inbox GROUP BY status").fetchall())
        bodies = connection.execute("SELECT COUNT(*) FROM inbox WHERE status = 'done' AND body IS NOT NULL")
        assert bodies.fetchone()[0] == 0  # message texts are dropped once handled
    assert statuses.get("done", 0) > 0
