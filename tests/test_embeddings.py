"""The embedding model on ONNX Runtime gives sentence-transformers' vectors; without an export, the
model still runs (on sentence-transformers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.config import minilm_model
from knowledge import embeddings
from knowledge.embeddings import (
    FLOAT_WEIGHTS,
    ExportFailed,
    OnnxEncoder,
    SentenceEmbedder,
    TorchEncoder,
    exported_model,
)
from knowledge.onnx_export import MIN_INT8_AGREEMENT

LONG = "Må jeg dele et cpr-nummer med en kollega i en anden forvaltning? " * 30  # over the token limit
TEXTS = ["Hvornår skal jeg partshøre?", "aktindsigt", LONG]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return TorchEncoder(minilm_model()).encode(TEXTS)


def test_onnx_vectors_match_sentence_transformers(torch_vectors: np.ndarray) -> None:
    """The export's own weights give sentence-transformers' vectors; the 8-bit ones, which the bot
    runs, come within the export's agreement limit."""
    embedder = SentenceEmbedder(minilm_model())
    vectors = embedder.encode(TEXTS)
    assert embedder.runtime == "onnxruntime"
    assert embedder.name.endswith("+int8")
    assert vectors.shape == torch_vectors.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert (vectors * torch_vectors).sum(axis=1).min() > MIN_INT8_AGREEMENT
    float_vectors = OnnxEncoder(exported_model(minilm_model()), FLOAT_WEIGHTS).encode(TEXTS)
    assert (float_vectors * torch_vectors).sum(axis=1).min() > 0.999


def test_batches_come_back_in_the_order_given() -> None:
    embedder = SentenceEmbedder(minilm_model(), batch_size=2)
    together = embedder.encode(TEXTS)
    one_by_one = np.vstack([embedder.encode([text]) for text in TEXTS])
    assert np.allclose(together, one_by_one, atol=1e-4)


def test_without_an_export_the_model_runs_on_sentence_transformers(
    monkeypatch: pytest.MonkeyPatch, torch_vectors: np.ndarray
) -> None:
    def refuse(model: str) -> Path:
        raise ExportFailed("no export here")

    monkeypatch.setattr(embeddings, "exported_model", refuse)
    embedder = SentenceEmbedder(minilm_model())
    assert np.allclose(embedder.encode(TEXTS), torch_vectors, atol=1e-4)
    assert embedder.runtime == "sentence-transformers"
    assert "+int8" not in embedder.name


def test_a_model_that_cannot_be_loaded_fails_the_export_clearly(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "knowledge.onnx_export", str(tmp_path / "no-model"),
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert not (tmp_path / "out" / "model.onnx").exists()


def test_eight_bit_weights_are_chosen_only_when_they_agree(tmp_path: Path) -> None:
    """The export keeps the original weights when the 8-bit ones would change the vectors too much."""
    import shutil

    from knowledge import onnx_export

    export = exported_model(minilm_model())
    for name in ("encoder.json", "tokenizer.json", FLOAT_WEIGHTS):
        shutil.copy(export / name, tmp_path / name)
    assert len(onnx_export._feed_forward_products(tmp_path / FLOAT_WEIGHTS)) == 12  # 6 layers, 2 each
    expected = OnnxEncoder(tmp_path, FLOAT_WEIGHTS).encode(onnx_export.PROBES)
    assert onnx_export._quantized(expected, tmp_path) == onnx_export.INT8_WEIGHTS
    assert onnx_export._quantized(-expected, tmp_path) == FLOAT_WEIGHTS  # vectors that disagree
