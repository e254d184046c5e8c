"""What the reply shows (issue 17): the passage or FAQ entry that answers the question, led by the
answer paragraph; follow-up questions for vague messages; off-topic replies only where the question
names no subject of the knowledge base; role openings left out of the search; 👎 alternatives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.telegram.answers import FOLLOWUP, UNHELPFUL, render_alternatives, render_answer
from knowledge.answering import MAX_ANSWER_CHARS, Answer, KnowledgeBase
from knowledge.articles import Article, Faq, Source
from knowledge.off_topic import OffTopic
from knowledge.retrieval import Hit, split_passages
from tests.test_knowledge import WordEmbedder

KLAGE_BODY = """Kan en afgørelse påklages, skal den have en klagevejledning (forvaltningsloven § 25).

**Eksempel:** En borger får afslag på hjælp og klager over det til kommunen.

Mangler klagevejledningen, begynder klagefristen som udgangspunkt ikke at løbe.

**Klagevejledningen skal indeholde:**

- klageinstansen
- fristen"""


def article(article_id: str, title: str, body: str, questions=("a", "b", "c", "d"), faq=(), tags=()) -> Article:
    return Article(article_id, title, "forvaltning-og-jura", tuple(tags), (Source("Forvaltningsloven § 25", "https://x.dk"),),
                   tuple(questions), (), None, body, Path(f"{article_id}.md"), tuple(faq))


@pytest.fixture
def knowledge() -> KnowledgeBase:
    knowledge = KnowledgeBase([
        article("klagevejledning", "Klagevejledning", KLAGE_BODY, tags=("klagevejledning",),
                questions=("skal der klagevejledning med", "klagevejledning forvaltningsloven")),
        article("inhabilitet", "Inhabilitet", "Du er inhabil, hvis din familie har interesse i sagen "
                "(forvaltningsloven § 3).\n\nDin leder afgør, om du er inhabil.", tags=("inhabilitet",),
                faq=(Faq("Min svigerinde har søgt om tilskud. Må jeg behandle sagen?",
                         "Nej. Svogerskab gør dig inhabil (forvaltningsloven § 3, stk. 1, nr. 2)."),)),
        article("frist-a", "Frist for aktindsigt", "Fristen for aktindsigt er 7 arbejdsdage (offl. § 36)."),
        article("frist-b", "Frist for partshøring", "Fristen for partshøring skal være rimelig (fvl. § 19)."),
    ], vague_path=Path(__file__).parent.parent / "knowledge" / "uklare_spoergsmaal.yaml")
    # Four tiny articles make small scores: confidence is not what these tests are about.
    knowledge.retriever.tuning = dataclasses.replace(knowledge.retriever.tuning, abstain_hybrid=-9.0,
                                                     abstain_lexical=-9.0, words_decide_confidence=0.5)
    knowledge.attach_embeddings(WordEmbedder(), {})
    return knowledge


def full_answer(knowledge: KnowledgeBase, question: str):
    """As the bot's knowledge service answers: from the words, then with the model when needed."""
    return knowledge.answer_in_full(question)


def reply_text(knowledge: KnowledgeBase, question: str) -> str:
    return render_answer(knowledge, full_answer(knowledge, question), log_id=None).text


def test_a_paragraph_ending_in_a_colon_stays_with_its_list() -> None:
    passages = split_passages(KLAGE_BODY)
    assert passages[-1].startswith("**Klagevejledningen skal indeholde:**") and "- fristen" in passages[-1]
    assert len(passages) == 4


def test_a_heading_alone_stays_with_the_paragraph_it_heads() -> None:
    passages = split_passages("Svaret.\n\n**Hvem er omfattet?**\n\nAlle borgere over 15 år.\n\n**Fx** en sætning.")
    assert passages == ["Svaret.", "**Hvem er omfattet?**\n\nAlle borgere over 15 år.", "**Fx** en sætning."]


def test_the_reply_shows_the_paragraph_that_answers_led_by_the_answer_paragraph(knowledge: KnowledgeBase) -> None:
    text = reply_text(knowledge, "mangler klagevejledningen – begynder klagefristen så at løbe?")
    assert text.index("skal den have en klagevejledning") < text.index("begynder klagefristen som udgangspunkt ikke")
    assert "Eksempel" not in text


def test_an_example_paragraph_is_held_back_when_a_rule_matches_nearly_as_well(knowledge: KnowledgeBase) -> None:
    retriever = knowledge.retriever
    question = "skal et afslag på hjælp have klagevejledning"
    chosen = {}
    for penalty in (0.0, 0.3):
        retriever.tuning = dataclasses.replace(retriever.tuning, aside_penalty=penalty)
        hit = full_answer(knowledge, question).result.hits[0]
        assert hit.article.id == "klagevejledning"
        chosen[penalty] = retriever.passages["klagevejledning"][hit.passage]
    assert chosen[0.0].startswith("**Eksempel")  # the example shares the most words ...
    assert not chosen[0.3].startswith("**Eksempel")  # ... but the rule beside it is shown


def test_an_faq_entry_is_shown_with_its_question(knowledge: KnowledgeBase) -> None:
    text = reply_text(knowledge, "min svigerinde har søgt om tilskud, må jeg behandle sagen")
    assert "<b>Min svigerinde har søgt om tilskud. Må jeg behandle sagen?</b>" in text
    assert "Svogerskab gør dig inhabil" in text
    assert text.index("Du er inhabil, hvis din familie") < text.index("Svogerskab")


def test_a_long_answer_paragraph_is_cut_to_its_first_sentences_to_make_room(knowledge: KnowledgeBase) -> None:
    lead = ("En afgørelse fastsætter, hvad der er ret for borgeren (forvaltningsloven § 2, stk. 1). "
            + "Den er ensidig og bindende. " * 12)
    rule = "Mangler begrundelsen, kan afgørelsen være ugyldig. " + "Det afhænger af sagen. " * 20
    long = article("lang", "Lang", f"{lead}\n\n{rule}")
    knowledge = KnowledgeBase([long], vague_path=None)
    hit = Hit(long, passage=1, score=1.0)
    shown = knowledge.passage(hit)
    assert len(lead) + len(rule) > MAX_ANSWER_CHARS >= len(shown)
    assert shown.startswith("En afgørelse fastsætter, hvad der er ret for borgeren (forvaltningsloven § 2, stk. 1).")
    assert shown.endswith(rule.strip())  # the passage that answers stays whole


@pytest.mark.parametrize("question", ["Hvad gør jeg?", "hjælp", "er det lovligt?", "kan du hjælpe mig med en sag",
                                      "det haster, jeg skal bruge et svar hurtigt", "min chef siger noget andet"])
def test_a_question_without_a_subject_gets_a_follow_up(knowledge: KnowledgeBase, question: str) -> None:
    answer = full_answer(knowledge, question)
    assert answer.followup is not None and answer.best is None
    assert render_answer(knowledge, answer, log_id=None).text == FOLLOWUP


def test_a_bare_keyword_that_matches_several_articles_gets_a_follow_up_with_them(knowledge: KnowledgeBase) -> None:
    answer = full_answer(knowledge, "frist")
    assert answer.followup is not None
    assert {a.id for a in answer.followup} >= {"frist-a", "frist-b"}
    reply = render_answer(knowledge, answer, log_id=None)
    assert [data for row in reply.buttons for _, data in row][:2] in (["art:frist-a:0", "art:frist-b:0"],
                                                                      ["art:frist-b:0", "art:frist-a:0"])


def test_a_question_around_its_subject_is_answered(knowledge: KnowledgeBase) -> None:
    answer = full_answer(knowledge, "hvornår er jeg inhabil?")
    assert answer.followup is None and answer.best.article.id == "inhabilitet"


def test_a_role_opening_is_left_out_of_the_search(knowledge: KnowledgeBase) -> None:
    assert knowledge.search_text("Jeg er socialrådgiver og skal skrive en afgørelse") == "skal skrive en afgørelse"
    assert knowledge.search_text("Som plejehjemsleder, må jeg tage imod gaver?") == "må jeg tage imod gaver?"
    assert knowledge.search_text("Byggesag: naboen vil se tegningerne") == "naboen vil se tegningerne"
    # Not a role: the opening is the question itself.
    question = "Jeg er gift med ansøgerens søster – må jeg behandle sagen?"
    assert knowledge.search_text(question) == question
    assert knowledge.search_text("fvl § 19: hvad står der") == "fvl § 19: hvad står der"


def test_a_word_of_the_off_topic_catalog_is_not_spelt_into_a_subject_of_the_articles() -> None:
    cooking = OffTopic("uden-for-arbejdet", "Uden for arbejdet", "Det ligger uden for mit område.",
                       ("har du en opskrift på boller", "opskrift lasagne"))
    knowledge = KnowledgeBase([article("skrift", "Skriftlighed", "Afgørelser skal være skriftlige "
                                       "(forvaltningsloven § 22).", tags=("skrift",))], [cooking])
    retriever = knowledge.retriever
    tokens = retriever.analyzer.tokens("opskrift boller")
    assert retriever.correct_spelling(tokens) == tokens
    assert retriever.correct_spelling(["skrrift"]) == ["skrift"]  # a typo is still corrected


def test_a_subject_of_the_articles_keeps_a_question_from_the_off_topic_reply() -> None:
    calendar = OffTopic("it-support", "IT-problemer", "Kontakt jeres IT-support.",
                        ("min kalender i outlook virker ikke", "kalender outlook fejl",
                         "outlook kalender synkroniserer ikke"))
    knowledge = KnowledgeBase([article("aktindsigt", "Aktindsigt", "Enhver kan søge aktindsigt i dokumenter "
                                       "(offentlighedsloven § 7).", tags=("aktindsigt",))], [calendar])
    knowledge.attach_embeddings(WordEmbedder(), {})
    retriever = knowledge.retriever
    tuning = dataclasses.replace(retriever.tuning, off_topic_margin=-1.0)  # the model alone would call it IT
    it_text = "outlook kalender virker ikke"
    it_question = retriever.search(it_text, WordEmbedder().encode([it_text])[0], tuning=tuning)
    assert it_question.off_topic is calendar
    reply = render_answer(knowledge, Answer(it_text, result=it_question), log_id=None)
    assert reply.text == "Kontakt jeres IT-support." and not reply.buttons  # no unrelated articles beside it
    on_topic = retriever.search("aktindsigt i min kalender", WordEmbedder().encode(["aktindsigt i min kalender"])[0],
                                tuning=tuning)
    assert on_topic.off_topic is None


def test_thumbs_down_offers_the_next_articles(knowledge: KnowledgeBase) -> None:
    answer = full_answer(knowledge, "frist for aktindsigt")
    shown = answer.result.hits[0].article.id
    alternatives = knowledge.alternatives(answer, shown)
    assert shown not in {a.id for a in alternatives} and 1 <= len(alternatives) <= 2
    reply = render_alternatives(alternatives)
    assert reply.text == UNHELPFUL and all(data.startswith("art:") for row in reply.buttons for _, data in row)


def test_related_articles_are_listed(knowledge: KnowledgeBase) -> None:
    from bot.telegram.answers import render_related

    knowledge.articles["linked"] = dataclasses.replace(knowledge.articles["inhabilitet"], id="linked",
                                                       related=("klagevejledning",))
    reply = render_related(knowledge, "linked")
    assert reply.buttons == [[("Klagevejledning", "art:klagevejledning:0")]]
