"""Everything the bot says that is not knowledge-base or quiz content, in Danish.

Kept in one place so the wording can be reviewed without reading any logic. Texts are sent with
HTML parse mode: anything that comes from a user or a file must pass through `escape()`.
"""

from __future__ import annotations

import html

BOT_NAME = "Forvaltningsassistenten"


def escape(text: str) -> str:
    """Escape text for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


# (command, description in the menu). Order is the order of the menu.
COMMANDS: list[tuple[str, str]] = [
    ("start", "Kom i gang"),
    ("quiz", "Dagens små spørgsmål"),
    ("tjek", "Tjek et udkast til en afgørelse eller sag"),
    ("fremskridt", "Se dit fremskridt"),
    ("indstillinger", "Tidspunkt, dage og områder"),
    ("pause", "Sæt spørgsmålene på pause"),
    ("genoptag", "Få spørgsmålene igen"),
    ("help", "Hvad kan jeg?"),
    ("privatliv", "Hvad gemmer botten om dig?"),
    ("mine_data", "Få dine data som fil"),
    ("slet_mine_data", "Slet alle dine data"),
    ("forlad", "Forlad dit forløb"),
]

BOT_DESCRIPTION = (
    "Spørg om god forvaltning og politikerbetjening, og få et kort svar med kilde. "
    "Øv dig med små quizzer et par minutter om dagen."
)
BOT_SHORT_DESCRIPTION = "Korte svar og små quizzer om god forvaltning og politikerbetjening."


def welcome(first_name: str | None, returning: bool) -> str:
    name = f" {escape(first_name)}" if first_name else ""
    if returning:
        return (
            f"Velkommen tilbage{name}! 👋\n\n"
            "Skriv dit spørgsmål, eller se /help for alt, hvad jeg kan."
        )
    return (
        f"Hej{name}! 👋 Jeg er {BOT_NAME}.\n\n"
        "Jeg hjælper dig med <b>god forvaltning</b> (fx partshøring, aktindsigt og "
        "databeskyttelse) og <b>politikerbetjening</b> (fx sagsfremstilling og indstillinger).\n\n"
        "Skriv bare dit spørgsmål, som du ville spørge en kollega, fx:\n"
        "<i>Skal jeg høre borgeren, før jeg giver afslag?</i>\n\n"
        "<b>Hvad sker der nu?</b> Du får et par små quizspørgsmål mandag til fredag kl. 9.00. "
        "Tid, dage og antal ændrer du i /indstillinger, og /pause holder pause.\n\n"
        "Se /help for alt, hvad jeg kan, og /privatliv for, hvad jeg gemmer om dig."
    )


def help_text() -> str:
    lines = [
        "<b>Sådan bruger du mig</b>",
        "",
        "✍️ Skriv et spørgsmål med dine egne ord. Du får et kort svar med kilden "
        "(lov og paragraf) og kan læse hele artiklen.",
        "",
        "🧠 Hver dag får du et par små spørgsmål på det tidspunkt, du vælger i /indstillinger. "
        "De spørgsmål, du er ved at glemme, kommer igen. Skriv /quiz for at øve nu.",
        "",
        "📝 Skriv /tjek, og send dit udkast til en afgørelse eller en sagsfremstilling (tekst eller "
        "fil). Du får en kort tjekliste over, hvad der mangler, og hvorfor.",
        "",
        "<b>Kommandoer</b>",
    ]
    lines += [f"/{command} – {description}" for command, description in COMMANDS]
    lines += [
        "",
        "Svarene er vejledning, ikke en juridisk afgørelse. Er du i tvivl i en konkret sag, så "
        "spørg din leder eller kommunens jurist.",
    ]
    return "\n".join(lines)


def privacy_text(show_name: bool = False) -> str:
    name = ("Dit navn, fordi du har valgt at vise det for konsulenten (slå det fra i /indstillinger)."
            if show_name else "Ikke dit navn eller telefonnummer.")
    return (
        "<b>Hvad gemmer jeg om dig?</b>\n\n"
        f"• Dit Telegram-id og chat-id, så jeg kan svare dig. {name}\n"
        "• De spørgsmål, du stiller, og om svaret hjalp, så vi kan forbedre svarene og se, hvad "
        "botten ikke kan svare på. Konsulenter ser dem uden dit navn. CPR-numre, telefonnumre og "
        "e-mailadresser i et spørgsmål gemmes ikke: de erstattes med [CPR-nummer], [telefonnummer] "
        "og [e-mail], før spørgsmålet gemmes.\n"
        "• Dine quizsvar, runder, hvad du har fået tilsendt, og dine indstillinger, så du får de "
        "rigtige spørgsmål på det rigtige tidspunkt.\n"
        "• Udkast, du beder mig tjekke (/tjek), gemmer jeg ikke. Jeg tæller kun, hvilke punkter på "
        "tjeklisten der manglede, uden navn og tekst, så konsulenten kan se, hvad holdet skal øve.\n"
        "• Hvilket hold du er med i. Konsulenten ser dine resultater som »Deltager 1« osv., "
        + ("med dit navn, som du har valgt.\n\n" if show_name else
           "ikke dit navn, medmindre du selv vælger det i /indstillinger.\n\n") +
        "<b>Hvor længe?</b>\n"
        "Dine beskeder til mig slettes fra min indbakke, når de er besvaret, og senest efter 7 "
        "dage. Teksten af dine spørgsmål slettes efter 12 måneder. Sendte påmindelser og beskeder "
        "slettes efter 30 dage. Resten gemmes, så længe du bruger botten, eller til du selv "
        "sletter det.\n\n"
        "<b>Dine rettigheder</b>\n"
        "/mine_data sender dig alt, hvad jeg har om dig, som en fil.\n"
        "/slet_mine_data sletter alt om dig. Kun tal uden navn og id bliver tilbage.\n\n"
        "Spørgsmål om databeskyttelse kan du stille til din kommunes databeskyttelsesrådgiver."
    )


INVITATION_UNKNOWN = (
    "Den invitation kender jeg ikke. 🤔 Tjek linket, eller bed den, der inviterede dig, om et nyt. "
    "Du kan stadig bruge botten: skriv dit spørgsmål eller /quiz."
)
INVITATION_EXPIRED = (
    "Den invitation er udløbet. Bed den, der inviterede dig, om et nyt link. "
    "Du kan stadig bruge botten: skriv dit spørgsmål eller /quiz."
)
CONSULTANT_LINK_UNKNOWN = "Det link er ikke gyldigt længere. Lav et nyt i dashboardet."
NOT_A_CONSULTANT = (
    "/kampagner er for konsulenter. Forbind din Telegram-konto fra dashboardet først."
)
STATUS_NAMES = {"active": "▶ kører", "paused": "⏸ på pause", "ended": "⏹ afsluttet"}


def enrolled(cohort: str, already: bool) -> str:
    if already:
        return f"Du er allerede med i <b>{escape(cohort)}</b>. 👍"
    return (
        f"Du er nu med i <b>{escape(cohort)}</b>. 🎉\n\n"
        "Holdets spørgsmål kommer på de dage og det tidspunkt, konsulenten har valgt (se /indstillinger).\n\n"
        "<b>Hvad ser konsulenten?</b> Dine quizsvar i holdets kampagner, hvornår du sidst var aktiv, og "
        "de spørgsmål, botten ikke kunne svare på – som »Deltager« med et nummer, ikke dit navn, "
        "medmindre du selv vælger det i /indstillinger.\n\n"
        "Vil du ud igen, så skriv /forlad."
    )


def left(cohorts: list[str]) -> str:
    if not cohorts:
        return "Du er ikke med i noget forløb."
    return "Du er ikke længere med i " + ", ".join(f"<b>{escape(c)}</b>" for c in cohorts) + "."


def consultant_linked(name: str) -> str:
    return f"Din Telegram-konto er nu forbundet med konsulenten <b>{escape(name)}</b>. Skriv /kampagner."


def danish_date(iso_day: str) -> str:
    """"2027-03-01" -> "01.03.2027"."""
    return ".".join(reversed(iso_day.split("-")))


def campaign_overview(campaigns: list[dict]) -> str:
    if not campaigns:
        return "Du har ingen kampagner endnu. Opret dem i dashboardet."
    lines = ["<b>Dine kampagner</b>"]
    for campaign in campaigns[:10]:
        lines.append(
            f"\n<b>{escape(campaign['name'])}</b> ({escape(campaign['cohort_name'])})\n"
            f"{STATUS_NAMES.get(campaign['status'], campaign['status'])} · {danish_date(campaign['start_date'])}–"
            f"{danish_date(campaign['end_date'])} · {campaign['members']} deltagere · {campaign['answers']} svar"
        )
    return "\n".join(lines)


UNKNOWN_COMMAND = "Den kommando kender jeg ikke. 🤔 Skriv /help for at se, hvad jeg kan."
ERROR_REPLY = (
    "Beklager, der gik noget galt hos mig. 😕 Prøv igen om et øjeblik. "
    "Sker det igen, så skriv til den, der har inviteret dig til botten."
)
BUSY_REPLY = (
    "Beklager, jeg har travlt lige nu og kunne ikke gemme det, du gjorde. "
    "Prøv igen om et øjeblik."
)
NOT_TEXT = "Jeg kan kun læse tekst. Skriv dit spørgsmål med ord. ✍️"

DELETE_CONFIRM = (
    "Vil du slette <b>alle</b> dine data? Det gælder dine spørgsmål, quizsvar, fremskridt og "
    "indstillinger. Det kan ikke fortrydes."
)
DELETE_YES = "Ja, slet alt"
DELETE_NO = "Nej, behold"
DELETE_DONE = (
    "Dine data er slettet. 🗑️ Du kan altid starte forfra med /start."
)
DELETE_CANCELLED = "Fint, intet er slettet."
ERASED_REPLY = (
    "Dine data er slettet, og jeg gemmer intet om dig. Skriv /start, hvis du vil bruge botten igen."
)
EXPORT_CAPTION = "Her er alt, hvad jeg har gemt om dig."


def export_summary(exported: dict) -> str:
    """A short readable summary of what the data file holds."""
    learner = exported["learner"]
    cohorts = [c["cohort"] for c in exported.get("cohorts", []) if not c.get("left_at")]
    lines = [
        "<b>Det har jeg gemt om dig</b>",
        f"• Bruger siden {learner['created_at'][:10]}",
        f"• {len(exported.get('questions', []))} spørgsmål stillet",
        f"• {len(exported.get('quiz_answers', []))} quizsvar i {len(exported.get('quiz_rounds', []))} runder",
        f"• {len(exported.get('messages_sent', []))} påmindelser og beskeder sendt (de sidste 30 dage)",
        f"• Hold: {', '.join(escape(c) for c in cohorts) if cohorts else 'ingen'}",
        f"• Navn vist for konsulenten: {'ja' if learner.get('show_name') else 'nej'}",
        "",
        "Alt står i filen herunder.",
    ]
    return "\n".join(lines)
NO_DATA = "Jeg har ingen data om dig."
