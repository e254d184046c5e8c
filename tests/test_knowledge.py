"""Tokenising, stemming, compounds, fusion, the abstention threshold and rendering — no Telegram."""

import sys
from pathlib import Path

import numpy as np
import pytest

from bot.telegram.answers import markdown_to_html, render_answer, render_article_page
from knowledge.answering import Answer, KnowledgeBase, shorten
from knowledge.articles import Article, Source
from knowledge.retrieval import DEFAULT_TUNING, Retriever, SearchResult, Tuning, split_passages
from knowledge.smalltalk import classify_smalltalk
from knowledge.text import Analyzer


def article(article_id: str, title: str, body: str, questions=("a", "b", "c", "d"), related=()) -> Article:
    return Article(article_id, title, "forvaltning-og-jura", (), (Source("Forvaltningsloven § 19", "https://x.dk"),),
                   tuple(questions), tuple(related), None, body, Path(f"{article_id}.md"))


@pytest.fixture(scope="module")
def knowledge_base() -> KnowledgeBase:
    knowledge, problems = KnowledgeBase.load()
    assert not problems
    return knowledge


def test_danish_letters_and_their_stand_ins_meet() -> None:
    analyzer = Analyzer()
    assert analyzer.tokens("partshoring hvornar") == analyzer.tokens("partshøring hvornår")
    assert analyzer.tokens("byraadsmoeder") == analyzer.tokens("byrådsmøder")


def test_a_typo_is_corrected_to_a_known_word() -> None:
    retriever = Retriever([article("journal", "Journalisering", "Dokumenter skal journaliseres på sagen.")])
    assert retriever.search("hvad skal jornaliseres", mode="lexical").best.article.id == "journal"


def test_inflected_forms_meet() -> None:
    analyzer = Analyzer()
    assert analyzer.tokens("aktindsigten") == analyzer.tokens("aktindsigt")
    assert analyzer.tokens("partshøre") == analyzer.tokens("partshøring")
    assert analyzer.tokens("Afgørelsen") == analyzer.tokens("afgørelse")


def test_compounds_are_split_into_known_parts() -> None:
    analyzer = Analyzer(["aktindsigt", "anmodning", "partshøring", "brev"])
    tokens = analyzer.tokens("aktindsigtsanmodning")
    assert set(analyzer.tokens("aktindsigt")) <= set(tokens)
    assert set(analyzer.tokens("anmodning")) <= set(tokens)
    assert set(analyzer.tokens("brev")) <= set(analyzer.tokens("partshøringsbrev"))


def test_section_numbers_and_abbreviations_survive() -> None:
    analyzer = Analyzer()
    tokens = analyzer.tokens("fvl § 19 frist?")
    assert "§19" in tokens
    assert analyzer.stem("forvaltningsloven") in tokens
    assert analyzer.tokens("§19") == ["§19"]
    assert analyzer.tokens("2FA") == ["2fa"]  # not "fa"
    assert "72" in analyzer.tokens("72 timer")


def test_meaningful_small_words_are_kept() -> None:
    analyzer = Analyzer()
    tokens = analyzer.tokens("Hvornår må man ikke give aktindsigt?")
    for word in ("hvornår", "må", "ikke"):
        assert analyzer.tokens(word) and set(analyzer.tokens(word)) <= set(tokens)
    assert not analyzer.tokens("man")


def test_passages_start_with_the_answer_and_stay_short() -> None:
    body = "Svaret først.\n\n" + "\n\n".join(f"Afsnit nummer {i} " * 20 for i in range(6))
    passages = split_passages(body)
    assert passages[0] == "Svaret først."
    assert all(len(p) <= 700 or "\n\n" not in p for p in passages)


def test_rrf_rewards_agreement_between_rankers() -> None:
    lexical = np.array([5.0, 4.0, 0.0], dtype=np.float32)
    dense = np.array([0.5, 0.9, 0.8], dtype=np.float32)
    fused = Retriever._rrf(lexical, dense, DEFAULT_TUNING)
    # Article 1 is second lexically and first densely; article 2 has no lexical match at all.
    assert fused[1] > fused[2]
    assert fused[0] > fused[2]


def test_threshold_decides_abstention() -> None:
    assert SearchResult("x", "hybrid", [], 0.9, 0.4).abstain  # nothing found
    retriever = Retriever([article("aktindsigt", "Aktindsigt", "Enhver kan søge aktindsigt i dokumenter.")])
    strict, lenient = Tuning(abstain_lexical=5.0), Tuning(abstain_lexical=0.0)
    assert retriever.search("aktindsigt", mode="lexical", tuning=strict).abstain
    assert not retriever.search("aktindsigt", mode="lexical", tuning=lenient).abstain
    assert retriever.search("fodbold", mode="lexical", tuning=lenient).abstain  # no hit at all


def test_a_question_whose_subject_no_article_knows_is_less_certain() -> None:
    retriever = Retriever([
        article("frister", "Frister for aktindsigt", "Svar på en anmodning om aktindsigt inden for syv arbejdsdage."),
        article("journal", "Journalisering", "Dokumenter skal journaliseres på sagen."),
    ])
    known = retriever.signals("frist for aktindsigt")
    foreign = retriever.signals("frist for arbejdsulykkesanmeldelse")  # shares only "frist"
    assert known.unknown_tokens == 0 and foreign.unknown_tokens > 0
    assert retriever.unknown_share(known) == 0 and retriever.unknown_share(foreign) > 0
    top = retriever.article_ids.index("frister")
    assert retriever.coverage(known, top) == 1.0
    assert retriever.coverage(foreign, top) < 0.5
    tuning = Tuning(bm25_weight=0.0, coverage_weight=1.0, unknown_weight=1.0, abstain_lexical=0.5)
    assert not retriever.search("frist for aktindsigt", mode="lexical", tuning=tuning).abstain
    assert retriever.search("frist for arbejdsulykkesanmeldelse", mode="lexical", tuning=tuning).abstain


def test_lexical_search_finds_the_right_article() -> None:
    retriever = Retriever([
        article("partshoering", "Partshøring", "Du skal høre parten før en afgørelse om afslag."),
        article("aktindsigt", "Aktindsigt", "Enhver kan søge aktindsigt i dokumenter."),
    ])
    result = retriever.search("skal jeg partshøre før afslag", mode="lexical")
    assert result.best.article.id == "partshoering"


@pytest.mark.parametrize("text", ["Hej", "hej!", "Tak for hjælpen", "mange tak", "godmorgen", "hvem er du?"])
def test_smalltalk_is_recognised(text: str) -> None:
    assert classify_smalltalk(text) is not None


@pytest.mark.parametrize("text", ["Hej, hvornår skal jeg partshøre?", "tak for aktindsigt frist", "aktindsigt"])
def test_questions_are_not_smalltalk(text: str) -> None:
    assert classify_smalltalk(text) is None


def test_markup_in_content_is_escaped() -> None:
    html = markdown_to_html("**Vigtigt:** 3 < 4 & <script>\n- punkt")
    assert html == "<b>Vigtigt:</b> 3 &lt; 4 &amp; &lt;script&gt;\n• punkt"


def test_shorten_cuts_at_a_sentence() -> None:
    text = "Første sætning er her. " * 40
    short = shorten(text, 100)
    assert len(short) <= 102 and short.endswith("…")


def test_answer_has_source_line_and_buttons(knowledge_base: KnowledgeBase) -> None:
    answer = knowledge_base.answer("hvor lang tid har vi til at svare på en aktindsigt")
    reply = render_answer(knowledge_base, answer, log_id=12)
    assert "Kilde: " in reply.text
    data = [d for row in reply.buttons for _, d in row]
    assert data[0].startswith("art:")
    assert "fb:12:1" in data and "fb:12:0" in data


def test_off_topic_gets_not_sure_with_topics(knowledge_base: KnowledgeBase) -> None:
    reply = render_answer(knowledge_base, Answer("x", result=SearchResult("x", "hybrid", [], 0.0, 0.5)), 1)
    assert reply.text.startswith("Det er jeg ikke sikker på")


def test_every_article_renders_and_fits_telegram(knowledge_base: KnowledgeBase) -> None:
    for article_id in knowledge_base.articles:
        pages = knowledge_base.pages(article_id)
        for number in range(len(pages)):
            reply = render_article_page(knowledge_base, article_id, number)
            assert len(reply.text) <= 4096
            for row in reply.buttons:
                for _, data in row:
                    assert len(data.encode()) <= 64


def test_questions_arriving_together_are_encoded_in_one_batch() -> None:
    import asyncio

    from bot.services.knowledge import KnowledgeService

    calls = []

    class CountingEmbedder(WordEmbedder):
        def encode(self, texts, kind="query"):
            calls.append(len(texts))
            return super().encode(texts, kind)

    embedder = CountingEmbedder()
    knowledge = two_subjects(embedder)
    calls.clear()  # the passages, encoded when the model was attached
    service = KnowledgeService(knowledge, embedder)

    async def many() -> list:
        return await asyncio.gather(*(service._model_view(f"frist {i}") for i in range(10)))

    views = asyncio.run(many())
    assert len(views) == 10 and sum(calls) == 10 and len(calls) <= 2
    # Each question gets its own scores, the same as if it had been compared alone.
    alone = knowledge.retriever.add_dense(knowledge.retriever.lexical_signals("frist 7"),
                                          WordEmbedder().encode(["frist 7"])[0])
    assert np.allclose(views[7].units, alone.unit_dense) and np.allclose(views[7].articles, alone.dense)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread niceness is a Linux feature")
def test_encoding_runs_at_a_lower_priority_than_the_event_loop() -> None:
    import asyncio
    import os
    import threading

    from bot.services.knowledge import KnowledgeService

    seen = []

    class PriorityRecordingEmbedder(WordEmbedder):
        def encode(self, texts, kind="query"):
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().encode(texts, kind)

    embedder = PriorityRecordingEmbedder()
    knowledge = two_subjects(embedder)
    seen.clear()  # the passages, encoded on this thread when the model was attached
    service = KnowledgeService(knowledge, embedder)
    asyncio.run(service._model_view("spørgsmål"))
    assert seen and seen[0] > os.getpriority(os.PRIO_PROCESS, 0)


class WordEmbedder:
    """A stand-in for the model: texts sharing words get close vectors (bag of words, hashed)."""

    name = "words"

    def encode(self, texts, kind="query"):
        import zlib

        vectors = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, zlib.crc32(word.strip("?.,").encode()) % 64] += 1
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9, None)


def test_a_question_like_an_off_topic_example_is_redirected() -> None:
    from bot.telegram.answers import render_not_sure
    from knowledge.off_topic import OffTopic

    printers = OffTopic("it-support", "IT-problemer", "Kontakt jeres IT-support.",
                        ("printeren virker ikke", "printeren på kontoret printer ikke", "min skærm er sort"))
    knowledge = KnowledgeBase([article("aktindsigt", "Aktindsigt", "Enhver kan søge aktindsigt i dokumenter.",
                                       questions=("hvem kan søge aktindsigt", "frist for aktindsigt"))], [printers])
    knowledge.attach_embeddings(WordEmbedder(), {})
    embedder = WordEmbedder()

    def ask(question: str) -> Answer:
        return knowledge.answer(question, embedder.encode([question])[0])

    redirected = ask("printeren virker ikke igen")
    assert redirected.abstained and redirected.result.off_topic == printers
    reply = render_not_sure(knowledge, redirected)
    assert reply.text.startswith("Kontakt jeres IT-support.")
    assert not ask("hvem kan søge aktindsigt").result.off_topic  # closer to an article than to the examples


def test_a_question_sharing_more_words_with_an_off_topic_topic_is_redirected_without_the_model() -> None:
    from knowledge.off_topic import OffTopic

    pay = OffTopic("personale", "Løn og ferie", "Spørg HR.", ("hvornår kommer lønnen", "hvor mange feriedage har jeg",
                                                            "løn under barsel"))
    knowledge = KnowledgeBase([article("aktindsigt", "Aktindsigt", "Enhver kan søge aktindsigt i dokumenter, "
                                       "også om en ansats løn.", questions=("hvem kan søge aktindsigt", "frist"))],
                              [pay])
    # The tuned default leaves this to the model (off_topic_word_margin); the rule itself is tested here.
    knowledge.retriever.tuning = Tuning(off_topic_word_margin=0.0)
    assert knowledge.answer("hvor mange feriedage har jeg tilbage").result.off_topic == pay
    # "løn" is in both, but the article covers the question's words at least as well: answered.
    assert knowledge.answer("aktindsigt i en ansats løn").result.off_topic is None


def test_off_topic_catalog_problems_are_reported(tmp_path: Path) -> None:
    from knowledge.off_topic import load_off_topics

    path = tmp_path / "uden_for_emnet.yaml"
    path.write_text('- id: It Support\n  title: ""\n  reply: "Spørg IT."\n  examples: ["a", "b", "c"]\n'
                    '- id: vejret\n  title: "Vejret"\n  reply: "Det ved jeg ikke."\n  examples: ["regn i morgen"]\n'
                    '- id: ok\n  title: "OK"\n  reply: "Spørg HR."\n  examples: ["løn", "ferie", "barsel"]\n',
                    encoding="utf-8")
    topics, problems = load_off_topics(path)
    assert [t.id for t in topics] == ["ok"]
    assert any("id must be" in p for p in problems) and any("title" in p for p in problems)
    assert any("at least 3 examples" in p for p in problems)
    assert load_off_topics(tmp_path / "missing.yaml") == ([], [])


def two_subjects(embedder: WordEmbedder | None = None) -> KnowledgeBase:
    knowledge = KnowledgeBase([
        article("aktindsigt", "Aktindsigt", "Enhver kan søge aktindsigt i en myndigheds dokumenter. Svarfristen er "
                "7 arbejdsdage.", questions=("hvem kan søge aktindsigt", "frist for svar på aktindsigt")),
        article("partshoering", "Partshøring", "Før en afgørelse skal parten høres om nye oplysninger. Giv en "
                "rimelig frist.", questions=("hvornår skal jeg partshøre", "frist for partshøring")),
    ])
    # Two articles make small BM25 scores: the bar for the words' confidence is lowered to match.
    knowledge.retriever.tuning = Tuning(words_decide_confidence=0.5)
    knowledge.attach_embeddings(embedder or WordEmbedder(), {})
    return knowledge


def test_the_model_is_asked_only_when_the_words_do_not_decide() -> None:
    knowledge = two_subjects()
    clear = knowledge.answer("hvem kan søge aktindsigt i dokumenter")
    assert clear.result.words_decide and not knowledge.needs_model(clear)
    assert clear.best.article.id == "aktindsigt"
    vague = knowledge.answer("hvad med fristen")  # a word both articles have
    assert not vague.result.words_decide and knowledge.needs_model(vague)
    hybrid = knowledge.with_model(vague, knowledge.model_views([vague.question])[0])
    assert hybrid.result.mode == "hybrid" and hybrid.result.signals.dense is not None
    # Given the vector anyway, the hybrid keeps the words' decision.
    full = knowledge.answer(clear.question, WordEmbedder().encode([clear.question])[0])
    assert full.result.mode == "lexical" and full.best.article.id == "aktindsigt"


def test_the_service_encodes_only_questions_the_words_do_not_decide() -> None:
    import asyncio

    from bot.services.knowledge import KnowledgeService

    encoded = []

    class RecordingEmbedder(WordEmbedder):
        def encode(self, texts, kind="query"):
            encoded.extend(texts)
            return super().encode(texts, kind)

    embedder = RecordingEmbedder()
    knowledge = two_subjects(embedder)
    encoded.clear()  # the passages, encoded when the model was attached
    service = KnowledgeService(knowledge, embedder)
    clear = asyncio.run(service.answer("hvem kan søge aktindsigt i dokumenter"))
    vague = asyncio.run(service.answer("hvad med fristen"))
    assert clear.best.article.id == "aktindsigt" and vague.result.mode == "hybrid"
    assert encoded == ["hvad med fristen"]


def test_a_first_start_caches_the_embeddings_a_slice_at_a_time(tmp_path, monkeypatch) -> None:
    """A stop while the embeddings are first made keeps what was encoded, and the next start
    encodes only the rest (a stop waits for one slice, not the whole knowledge base)."""
    import asyncio

    from bot.services import knowledge as knowledge_service
    from bot.storage import Storage

    monkeypatch.setattr(knowledge_service, "ENCODE_SLICE", 3)
    slices = []

    class LoadedEmbedder(WordEmbedder):
        model_path = runtime = "test"

        def load(self) -> None:
            pass

    class StoppingEmbedder(LoadedEmbedder):
        def encode(self, texts, kind="query"):
            if sum(slices) >= 3:
                raise asyncio.CancelledError  # as when the bot stops during the second slice
            slices.append(len(texts))
            return super().encode(texts, kind)

    storage = Storage(tmp_path / "bot.sqlite3")
    knowledge = two_subjects()
    total = len(knowledge.unit_hashes())
    fresh_knowledge = KnowledgeBase(list(knowledge.articles.values()))
    service = knowledge_service.KnowledgeService(fresh_knowledge, StoppingEmbedder())
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(service.attach_embeddings(storage.embeddings))
    assert not fresh_knowledge.dense_ready
    assert len(storage.embeddings.cached_embeddings("words", fresh_knowledge.unit_hashes())) == 3

    slices.clear()
    service = knowledge_service.KnowledgeService(fresh_knowledge, LoadedEmbedder())
    asyncio.run(service.attach_embeddings(storage.embeddings))
    assert fresh_knowledge.dense_ready and total > 3
    assert len(storage.embeddings.cached_embeddings("words", fresh_knowledge.unit_hashes())) == total
    storage.close()
