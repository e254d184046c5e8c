"""The embeddings cache: the knowledge base's passage vectors, keyed by model and passage hash.

The `embeddings` table's SQL; the model is run once per changed passage, not at every start.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.storage.database import Repository


class EmbeddingCache(Repository):
    def cached_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        wanted = list(hashes)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT content_hash, vector FROM embeddings WHERE model = ? AND content_hash IN ({marks})",
                [model, *chunk],
            )
            for content_hash, vector in rows:
                found[content_hash] = np.frombuffer(vector, dtype=np.float32)
        return found

    def store_embeddings(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (model, content_hash, vector) VALUES (?, ?, ?)",
                [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
            )
