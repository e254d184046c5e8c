"""'Tjek mit udkast' end to end through the emulator: a pasted draft, a .docx and a .pdf upload,
the kind question, the buttons, and files the bot cannot read."""

from __future__ import annotations

import sqlite3

from tests.draft_files import docx_bytes, encrypted_pdf_bytes, pdf_bytes
from tests.support import BotProcess, ChatUser, buttons

AFGOERELSE = """Nordby Kommune, Hjælpemidler
3. februar 2026

Kære Poul

Afgørelse om trappelift

Du kan ikke få en trappelift. Vi har behandlet din ansøgning af 10. januar 2026.

Efter serviceloven § 116 kan kommunen give hjælp til boligindretning, når det er nødvendigt for at gøre boligen \
bedre egnet som opholdssted. Vi har lagt vægt på, at du bor i stueplan og kun bruger kælderen til opbevaring. Ved \
hjemmebesøget den 20. januar så vi, at du selv kan gå på trappen med gelænder. ZEBRAFINK

Med venlig hilsen
Sara Holm, ergoterapeut, tlf. 41 22 80 10
"""

SAGSFREMSTILLING = [
    "Nye åbningstider i borgerservice",
    "Indstilling",
    "Borgerservice indstiller, at Økonomiudvalget godkender nye åbningstider fra 1. september 2026.",
    "Baggrund",
    "Udvalget bad på sit møde den 4. februar om et forslag til kortere ventetid ved skranken.",
    "Konsekvenser",
    "For borgerne betyder forslaget, at der er åbent til kl. 18 om torsdagen.",
    "Økonomi",
    "Forslaget har ingen økonomiske konsekvenser.",
    "Bilag",
    "Bilag 1: Besøgstal 2025",
]


def test_a_pasted_draft_is_checked_after_asking(bot: BotProcess, user: ChatUser) -> None:
    asked = user.ask(AFGOERELSE)
    assert asked["text"].startswith("Det ligner et udkast")
    user.press(asked, "📝 Ja, tjek udkastet")
    report = user.wait_for_text("Tjek af afgørelse")
    text = report["text"]
    assert "1. ✗ <b>Klagevejledning</b>" in text  # the missing klagevejledning is the first fix
    assert "✓ Begrundelsen nævner reglerne" in text
    assert "LIX" in text and "Jeg har ikke gemt dit udkast" in text
    assert len(text) <= 4096
    labels = buttons(report)
    assert "🔁 Tjek igen" in labels
    assert any(label.startswith("📖 ") for label in labels)
    # The draft is not stored: not in the inbox (body dropped when handled), not in the question log.
    with sqlite3.connect(bot.db_path) as db:
        for table, column in (("inbox", "body"), ("question_log", "question")):
            assert db.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} LIKE '%ZEBRAFINK%'").fetchone()[0] == 0


def test_article_button_and_check_again(bot: BotProcess, user: ChatUser) -> None:
    user.press(user.ask(AFGOERELSE), "📝 Ja, tjek udkastet")
    report = user.wait_for_text("Tjek af afgørelse")
    article_button = next(label for label in buttons(report) if label.startswith("📖 "))
    user.press(report, article_button)
    article = user.wait_for(lambda m: "Kilder" in (m.get("text") or "") or "side 1 af" in (m.get("text") or ""))
    assert article["text"]
    user.press(report, "🔁 Tjek igen")
    prompt = user.wait_for_text("Send den rettede version")
    assert "afgørelse" in prompt["text"]
    fixed = AFGOERELSE.replace("Med venlig hilsen", "Du kan klage til Ankestyrelsen inden fire uger. Send klagen "
                               "til os, så ser vi på sagen igen.\n\nMed venlig hilsen")
    again = user.ask(fixed)  # no question first: the bot waits for the new version
    assert "Tjek af afgørelse" in again["text"]
    assert "✓ Klagevejledning" in again["text"]


def test_a_docx_upload_is_checked(bot: BotProcess, user: ChatUser) -> None:
    sent = user.send_document("sag.docx", docx_bytes(SAGSFREMSTILLING),
                              "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    report = user.wait_for(lambda m: m["message_id"] > sent["message_id"])
    assert "Tjek af sagsfremstilling" in report["text"], report["text"]
    assert "✓ Økonomi" in report["text"]
    assert "Alternativer eller handlemuligheder" in report["text"]


def test_a_pdf_upload_is_checked(bot: BotProcess, user: ChatUser) -> None:
    sent = user.send_document("afgoerelse.pdf", pdf_bytes(AFGOERELSE.splitlines()), "application/pdf")
    report = user.wait_for(lambda m: m["message_id"] > sent["message_id"])
    assert "Tjek af afgørelse" in report["text"], report["text"]
    assert "✓ Afgørelsen står først" in report["text"]


def test_the_kind_is_asked_when_unclear(bot: BotProcess, user: ChatUser) -> None:
    prompt = user.ask("/tjek")
    assert "Tjek mit udkast" in prompt["text"]
    unclear = ("Om projektet\n\nProjektet skal gøre det lettere at finde vej i rådhuset. Der kommer nye skilte i "
               "forhallen og på alle etager, og receptionen flytter tættere på indgangen. Arbejdet er planlagt i "
               "samarbejde med medarbejderne og en gruppe af de faste besøgende, som har testet skiltene.")
    asked = user.ask(unclear)
    assert asked["text"] == "Hvad er det for et udkast?"
    user.press(asked, "Sagsfremstilling / dagsordenspunkt")
    report = user.wait_for_text("Tjek af sagsfremstilling")
    assert "Indstilling først" in report["text"]


def test_no_means_the_text_is_answered_as_a_question(bot: BotProcess, user: ChatUser) -> None:
    asked = user.ask(AFGOERELSE)
    user.press(asked, "❓ Nej, svar på det")
    answer = user.wait_for(lambda m: m["message_id"] > asked["message_id"] and "Tjek af" not in (m.get("text") or ""))
    assert answer["text"]


def test_files_that_cannot_be_read_get_a_clear_reply(bot: BotProcess, user: ChatUser) -> None:
    cases = [
        ("beskyttet.pdf", encrypted_pdf_bytes(AFGOERELSE.splitlines()), "application/pdf", "adgangskode"),
        ("scannet.pdf", pdf_bytes([]), "application/pdf", "scannet PDF"),
        ("gammel.doc", b"\xd0\xcf\x11\xe0" + b"\x00" * 600, "application/msword", ".docx"),
        ("billede.txt", bytes(range(256)) * 40, "text/plain", "ikke ud til at være tekst"),
        ("i-stykker.docx", b"PK\x03\x04 not really a zip", None, "beskadiget"),
        ("program.exe", b"MZ" + b"\x00" * 100, "application/octet-stream", "filtype"),
    ]
    for filename, content, mime, expected in cases:
        sent = user.send_document(filename, content, mime)
        reply = user.wait_for(lambda m, after=sent["message_id"]: m["message_id"] > after)
        assert expected in reply["text"], (filename, reply["text"])
    # The bot still answers after all of them.
    assert user.ask("hvad er partshøring?")["text"]


def test_a_very_long_text_file_gives_the_same_short_reply(bot: BotProcess, user: ChatUser) -> None:
    text = AFGOERELSE + "\n".join(f"Afsnit {n}: Vi har set på sagen igen og fundet de samme oplysninger." for n in
                                  range(900))
    assert len(text.encode()) > 50_000
    sent = user.send_document("lang.txt", text.encode(), "text/plain")
    report = user.wait_for(lambda m: m["message_id"] > sent["message_id"])
    assert "Tjek af afgørelse" in report["text"]
    assert len(report["text"]) <= 4096


def test_html_and_markdown_in_a_draft_are_read_as_text(bot: BotProcess, user: ChatUser) -> None:
    marked = "<p><b>Afgørelse</b></p>\n" + AFGOERELSE.replace("Kære Poul", "**Kære Poul** <script>x</script>")
    asked = user.ask(marked)
    user.press(asked, "📝 Ja, tjek udkastet")
    report = user.wait_for_text("Tjek af afgørelse")
    assert "<script>" not in report["text"]
