"""What 'Tjek mit udkast' says, in Danish, and its buttons: the one-message report and the short
replies around it. Callback data: "tjek:ja" / "tjek:nej" (check the pasted text as a draft, or
answer it as a question), "tjek:afg" / "tjek:sag" (the kind), "tjek:igen:afg|sag" (check a new
version), and the articles' own "art:<id>:0"."""

from __future__ import annotations

from bot.telegram.answers import Reply, shorten_label
from bot.telegram.texts import escape
from knowledge.answering import KnowledgeBase
from knowledge.drafts.checker import Report
from knowledge.drafts.documents import EXTENSIONS, MAX_BYTES

KIND_CODES = {"afg": "afgoerelse", "sag": "sagsfremstilling"}
CODE_OF_KIND = {kind: code for code, kind in KIND_CODES.items()}
KIND_NAMES = {"afgoerelse": "afgørelse", "sagsfremstilling": "sagsfremstilling"}
TOP_FIXES = 3
MAX_QUOTES = 2

INTRO = (
    "📝 <b>Tjek mit udkast</b>\n\n"
    "Send mig dit udkast til en <b>afgørelse</b> (eller et brev til en borger) eller en "
    "<b>sagsfremstilling</b> til et udvalg. Indsæt teksten her, eller send en .docx-, .pdf- eller .txt-fil.\n\n"
    "Jeg tjekker det mod reglerne og giver dig en kort liste over, hvad der er på plads, hvad der mangler, "
    "og hvorfor. Jeg gemmer ikke dit udkast.\n\n"
    "Fjern gerne CPR-numre og helbredsoplysninger først."
)
ASK_IF_DRAFT = "Det ligner et udkast. Skal jeg tjekke det som et udkast? 📝"
YES_CHECK = "📝 Ja, tjek udkastet"
NO_QUESTION = "❓ Nej, svar på det"
ASK_KIND = "Hvad er det for et udkast?"
KIND_BUTTONS = [[("Afgørelse / brev til borger", "tjek:afg")], [("Sagsfremstilling / dagsordenspunkt", "tjek:sag")]]
CHECK_AGAIN = "🔁 Tjek igen"
SEND_NEW_VERSION = "Send den rettede version (tekst eller fil), så tjekker jeg den som {kind}. ✍️"
GONE = ("Jeg har ikke udkastet længere – jeg gemmer det ikke. Send det igen, eller skriv /tjek.")
WORKING = "Et øjeblik, jeg læser dit udkast … ⏳"
NOT_STORED = "<i>Jeg har ikke gemt dit udkast.</i>"

DOCUMENT_ERRORS = {
    "too_large": f"Filen er for stor. Jeg kan læse filer op til {MAX_BYTES // (1024 * 1024)} MB. "
                 "Indsæt gerne teksten i stedet.",
    "unknown_type": "Den filtype kan jeg ikke læse. Send en " + ", ".join(EXTENSIONS) + "-fil, eller indsæt teksten.",
    "old_word": "Det er et ældre Word-format (.doc). Gem det som .docx i Word, og send det igen.",
    "binary": "Filen ser ikke ud til at være tekst. Send en .docx-, .pdf- eller .txt-fil, eller indsæt teksten.",
    "damaged": "Jeg kan ikke åbne filen. Den kan være beskadiget. Gem den igen, eller indsæt teksten.",
    "encrypted": "PDF'en er beskyttet med en adgangskode, så jeg kan ikke læse den. "
                 "Send en udgave uden adgangskode, eller indsæt teksten.",
    "no_text": "Jeg kan ikke finde nogen tekst i filen. Er det en scannet PDF? "
               "Så indsæt teksten, eller send dokumentet som .docx.",
}
DOWNLOAD_FAILED = "Jeg kunne ikke hente filen. Prøv at sende den igen om et øjeblik."


def kind_keyboard() -> list[list[tuple[str, str]]]:
    return [list(row) for row in KIND_BUTTONS]


def confirm_keyboard() -> list[list[tuple[str, str]]]:
    return [[(YES_CHECK, "tjek:ja")], [(NO_QUESTION, "tjek:nej")]]


def _quote(text: str | None) -> str:
    return f" »{escape(text)}«" if text else ""


def render_report(report: Report, knowledge: KnowledgeBase) -> Reply:
    """One message on a phone: the overall picture, the three most important fixes first with a
    quote, then ✓/✗ for the rest, the klarsprog figures, privacy warnings, and buttons to the
    explaining articles and "Tjek igen"."""
    kind_name = KIND_NAMES[report.kind]
    applicable = [r for r in report.results if r.status != "not_needed"]
    present = [r for r in applicable if r.status == "ok"]
    missing = report.missing
    if not missing:
        overall = f"Alle {len(applicable)} punkter er på plads. 👏"
    else:
        overall = f"{len(present)} af {len(applicable)} punkter er på plads. {len(missing)} skal rettes."
    lines = [f"📝 <b>Tjek af {kind_name}</b>", overall]
    warnings = privacy_warnings(report)
    if warnings:
        lines += ["", *warnings]
    fixes = missing[:TOP_FIXES]
    if fixes:
        lines += ["", "<b>Ret først</b>"]
        for number, result in enumerate(fixes, 1):
            title = escape(result.item.title)
            lines.append(f"{number}. ✗ <b>{title}</b>: {escape(result.reason)}{_quote(result.quote)}")
    rest = [r for r in report.results if r not in fixes]
    if rest:
        lines += ["", "<b>Resten</b>"]
        for result in rest:
            if result.status == "ok":
                lines.append(f"✓ {escape(result.item.title)}")
            elif result.status == "not_needed":
                lines.append(f"– {escape(result.item.title)} (ikke nødvendigt her)")
            else:
                lines.append(f"✗ {escape(result.item.title)}: {escape(result.reason)}{_quote(result.quote)}")
    lines += ["", *klarsprog_lines(report)]
    if report.truncated:
        lines += ["", "Udkastet er langt, så jeg har tjekket de første cirka 25 sider."]
    lines += ["", NOT_STORED]
    buttons: list[list[tuple[str, str]]] = []
    seen: set[str] = set()
    for result in fixes:
        article = knowledge.articles.get(result.item.article)
        if article is None or article.id in seen:
            continue
        seen.add(article.id)
        buttons.append([(f"📖 {shorten_label(article.title)}", f"art:{article.id}:0")])
    buttons.append([(CHECK_AGAIN, f"tjek:igen:{CODE_OF_KIND[report.kind]}")])
    return Reply("\n".join(lines), buttons)


def privacy_warnings(report: Report) -> list[str]:
    warnings = []
    if report.privacy.cpr_numbers:
        count = report.privacy.cpr_numbers
        warnings.append(f"⚠️ Udkastet indeholder {'et CPR-nummer' if count == 1 else f'{count} CPR-numre'}. "
                        "Del ikke CPR-numre i en chat, og skriv dem kun i brevet, hvis det er nødvendigt.")
    if report.privacy.health_with_name:
        warnings.append("⚠️ Udkastet ser ud til at indeholde helbredsoplysninger sammen med et navn. Det er "
                        "følsomme oplysninger: fjern navnet, før du deler teksten.")
    return warnings


def klarsprog_lines(report: Report) -> list[str]:
    k = report.klarsprog
    lines = ["<b>Klarsprog</b>", f"LIX {k.lix:.0f} ({k.level}) · {k.words} ord i {k.sentences} sætninger"]
    if k.long_sentences:
        count = len(k.long_sentences)
        quoted = "; ".join(f"»{escape(_short(s.text))}«" for s in k.long_sentences[:MAX_QUOTES])
        lines.append(f"{count} {'sætning' if count == 1 else 'sætninger'} over 25 ord, fx {quoted}")
    if k.passives:
        examples = ", ".join(f"»{escape(p)}«" for p in k.passives[:MAX_QUOTES])
        forms = "passiv form" if len(k.passives) == 1 else "passive former"
        lines.append(f"{len(k.passives)} {forms}, fx {examples}. Skriv, hvem der gør hvad.")
    if k.jargon:
        pairs = "; ".join(f"»{escape(j.quote)}« → {escape(j.instead)}" for j in k.jargon[:3])
        lines.append(f"Fagord og kancellisprog: {pairs}")
    if report.kind == "afgoerelse" and k.formal_de:
        lines.append(f"Du skriver »{escape(k.formal_de[0])}«. Skriv hellere »du« til borgeren.")
    return lines


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: text.rfind(" ", 0, limit)] + " …"
