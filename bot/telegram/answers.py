"""Rendering answers and articles for Telegram (HTML) — wording and buttons in one place.

Callback data (at most 64 bytes): "art:<id>:<page>" sends an article page as a new message,
"page:<id>:<page>" turns the page in place, "rel:<id>" lists related articles, "fb:<log id>:1|0"
is the 👍/👎 on an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.telegram.texts import escape
from knowledge.answering import Answer, KnowledgeBase
from knowledge.articles import Article

Buttons = list[list[tuple[str, str]]]  # rows of (label, callback data)


@dataclass
class Reply:
    text: str  # Telegram HTML
    buttons: Buttons = field(default_factory=list)


SMALLTALK = {
    "greeting": "Hej! 👋 Skriv dit spørgsmål om god forvaltning eller politikerbetjening, så finder jeg svaret.",
    "thanks": "Det var så lidt! 😊 Spørg bare igen, når du har brug for det.",
    "goodbye": "Hav en god dag! 👋",
    "how_are_you": "Jeg har det fint, tak! Hvad kan jeg hjælpe dig med i dag?",
    "who_are_you": (
        "Jeg er en læringsassistent til ansatte i kommuner. Jeg svarer kort på spørgsmål om god "
        "forvaltning (fx partshøring, aktindsigt, databeskyttelse) og politikerbetjening (fx "
        "sagsfremstilling og indstillinger), og jeg giver dig små quizzer. Se /help."
    ),
    "ok": "👍 Skriv bare, hvis du har et spørgsmål.",
}
NOT_SURE = (
    "Det er jeg ikke sikker på. 🤔 Jeg fandt ikke et svar i min vidensbase, som jeg tør stå inde for."
)
NOT_SURE_TOPICS = "Måske handler dit spørgsmål om et af disse emner?"
NOT_SURE_ADVICE = (
    "Du kan også prøve at skrive spørgsmålet på en anden måde. Gælder det en konkret sag, så spørg "
    "din leder eller kommunens jurist."
)
FOLLOWUP = "Hvad drejer det sig om? 🤔 Skriv gerne lidt mere om situationen – eller vælg et emne:"
FEEDBACK_QUESTION = "Hjalp svaret?"
FEEDBACK_THANKS = "Tak for din tilbagemelding! 🙏"
UNHELPFUL = ("Ærgerligt – tak fordi du sagde det. 🙏 Måske står svaret i et af disse emner. Eller skriv spørgsmålet "
             "på en anden måde, fx med lidt mere om situationen, så prøver jeg igen.")
UNHELPFUL_NO_TOPICS = ("Ærgerligt – tak fordi du sagde det. 🙏 Prøv at skrive spørgsmålet på en anden måde, fx "
                       "med lidt mere om situationen. Gælder det en konkret sag, så spørg din leder eller "
                       "kommunens jurist.")
ARTICLE_GONE = "Den artikel findes ikke længere."


def markdown_to_html(text: str) -> str:
    """The articles' small Markdown (paragraphs, **bold**, '- ' lists) as Telegram HTML."""
    lines = []
    for line in escape(text).splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("- ", "* ")):
            line = "• " + stripped[2:]
        lines.append(line)
    html = "\n".join(lines)
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html, flags=re.S)


def render_answer(
    knowledge: KnowledgeBase, answer: Answer, log_id: int | None, quiz_articles: frozenset[str] = frozenset()
) -> Reply:
    """The best passage with its source and buttons (a quiz button when the article has questions)."""
    if answer.smalltalk is not None:
        return Reply(SMALLTALK[answer.smalltalk])
    if answer.followup is not None:
        return Reply(FOLLOWUP, [[(shorten_label(t.title), f"art:{t.id}:0")] for t in answer.followup])
    hit = answer.best
    if hit is None:
        return render_not_sure(knowledge, answer)
    article = hit.article
    text = (
        f"<b>{escape(article.title)}</b>\n\n"
        f"{markdown_to_html(knowledge.passage(hit))}\n\n"
        f"<i>Kilde: {escape(article.source_line)}</i>"
    )
    buttons: Buttons = [[("📖 Læs hele artiklen", f"art:{article.id}:0")]]
    if article.related:
        buttons[0].append(("🔗 Relaterede emner", f"rel:{article.id}"))
    if article.id in quiz_articles:
        buttons.append([("🧠 Quiz om emnet", f"quiz:topic:{article.id}")])
    if log_id is not None:
        text += f"\n\n{FEEDBACK_QUESTION}"
        buttons.append([("👍 Ja", f"fb:{log_id}:1"), ("👎 Nej", f"fb:{log_id}:0")])
    return Reply(text, buttons)


def render_not_sure(knowledge: KnowledgeBase, answer: Answer) -> Reply:
    """The abstention: where to ask instead when the question is off-topic (knowledge/uden_for_emnet.yaml),
    with no articles beside it (they would be unrelated); otherwise "not sure" with the nearest topics."""
    off_topic = answer.result.off_topic if answer.result is not None else None
    if off_topic is not None:
        return Reply(escape(off_topic.reply))
    topics = knowledge.nearest_topics(answer, 3)
    buttons = [[(shorten_label(t.title), f"art:{t.id}:0")] for t in topics]
    text = NOT_SURE
    if topics:
        text += f"\n\n{NOT_SURE_TOPICS}"
    text += f"\n\n{NOT_SURE_ADVICE}"
    return Reply(text, buttons)


def render_alternatives(alternatives: list[Article]) -> Reply:
    """After 👎: the next articles the search found, and a nudge to ask again in other words."""
    if not alternatives:
        return Reply(UNHELPFUL_NO_TOPICS)
    return Reply(UNHELPFUL, [[(shorten_label(a.title), f"art:{a.id}:0")] for a in alternatives])


def render_article_page(knowledge: KnowledgeBase, article_id: str, page: int) -> Reply:
    article = knowledge.articles.get(article_id)
    if article is None:
        return Reply(ARTICLE_GONE)
    pages = knowledge.pages(article_id)
    page = max(0, min(page, len(pages) - 1))
    header = f"<b>{escape(article.title)}</b>"
    if len(pages) > 1:
        header += f"  <i>(side {page + 1} af {len(pages)})</i>"
    text = f"{header}\n\n{markdown_to_html(pages[page])}"
    if page == len(pages) - 1:
        text += "\n\n" + render_sources(article)
    navigation = []
    if page > 0:
        navigation.append(("◀ Forrige", f"page:{article_id}:{page - 1}"))
    if page < len(pages) - 1:
        navigation.append(("Næste ▶", f"page:{article_id}:{page + 1}"))
    buttons: Buttons = [navigation] if navigation else []
    if article.related:
        buttons.append([("🔗 Relaterede emner", f"rel:{article_id}")])
    return Reply(text, buttons)


def render_sources(article: Article) -> str:
    lines = ["<b>Kilder</b>"]
    for source in article.sources:
        if source.url:
            lines.append(f'• <a href="{escape_attribute(source.url)}">{escape(source.ref)}</a>')
        else:
            lines.append(f"• {escape(source.ref)}")
    if article.reviewed:
        lines.append(f"<i>Fakta sidst kontrolleret {article.reviewed:%d.%m.%Y}</i>")
    return "\n".join(lines)


def render_related(knowledge: KnowledgeBase, article_id: str) -> Reply:
    article = knowledge.articles.get(article_id)
    if article is None:
        return Reply(ARTICLE_GONE)
    related = knowledge.related(article_id)
    if not related:
        return Reply(f"Der er ingen relaterede emner til <b>{escape(article.title)}</b>.")
    return Reply(
        f"Relaterede emner til <b>{escape(article.title)}</b>:",
        [[(shorten_label(r.title), f"art:{r.id}:0")] for r in related],
    )


def escape_attribute(value: str) -> str:
    return escape(value).replace('"', "&quot;")


def shorten_label(label: str, limit: int = 60) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def as_plain_text(reply: Reply) -> str:
    """The reply as `run_bot.py ask` prints it: the HTML text, then one line per button row."""
    lines = [reply.text]
    if reply.buttons:
        lines.append("")
        for row in reply.buttons:
            lines.append("  ".join(f"[{label}]" for label, _ in row))
    return "\n".join(lines)
