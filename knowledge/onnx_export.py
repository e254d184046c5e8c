"""Export a sentence-transformers model to ONNX, for knowledge.embeddings to run without torch.

    python -m knowledge.onnx_export MODEL OUT_DIR

Writes OUT_DIR/model.onnx (the transformer, returning token embeddings), OUT_DIR/tokenizer.json and
OUT_DIR/encoder.json (pooling, prompt, length limit). Before it finishes, it encodes a few probe
texts both ways and refuses (exit status 2) unless the vectors agree. Run in a child process, so
that torch is loaded only here, once per model, and never in the bot.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

SUPPORTED_POOLING = ("mean", "cls", "max")
PROBES = [
    "Hvad er fristen for at svare på en anmodning om aktindsigt?",
    "partshøring",
    "Må jeg sende et cpr-nummer i en almindelig mail til borgeren? " * 40,  # longer than the limit
]
MIN_AGREEMENT = 0.999  # cosine between the two encodings of every probe


class UnsupportedModel(Exception):
    """The model's modules are not transformer + pooling (+ normalize): run it with torch."""


def export(model_name: str, out_dir: Path) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_name, device="cpu")
    transformer, pooling, *rest = list(model)
    kinds = [type(module).__name__ for module in model]
    if kinds[:2] != ["Transformer", "Pooling"] or any(type(m).__name__ != "Normalize" for m in rest):
        raise UnsupportedModel(f"modules {kinds}")
    if pooling.pooling_mode not in SUPPORTED_POOLING or getattr(transformer, "do_lower_case", False):
        raise UnsupportedModel(f"pooling {pooling.pooling_mode!r}")

    tokenizer = transformer.tokenizer
    sample = tokenizer(["hej", "en lidt længere sætning"], padding=True, return_tensors="pt")
    input_names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(input_names, inputs, strict=True))).last_hidden_state

    out_dir.mkdir(parents=True, exist_ok=True)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*input_names, "token_embeddings"]}
    with torch.no_grad():
        torch.onnx.export(
            TokenEmbeddings(transformer.auto_model.eval()), tuple(sample[name] for name in input_names),
            str(out_dir / "model.onnx"), input_names=input_names, output_names=["token_embeddings"],
            dynamic_axes=axes, opset_version=17, dynamo=False,
        )
    tokenizer.backend_tokenizer.save(str(out_dir / "tokenizer.json"))
    prompt = model.prompts.get(model.default_prompt_name, "") if model.default_prompt_name else ""
    settings = {
        "pooling": pooling.pooling_mode,
        "max_tokens": transformer.max_seq_length,
        "prompt": prompt,
        "pad_token": tokenizer.pad_token,
        "pad_id": tokenizer.pad_token_id,
        "inputs": input_names,
    }
    (out_dir / "encoder.json").write_text(json.dumps(settings, indent=2))
    _check_agreement(model, out_dir)


def _check_agreement(model, out_dir: Path) -> None:
    from knowledge.embeddings import OnnxEncoder

    expected = model.encode(PROBES, normalize_embeddings=True, convert_to_numpy=True)
    actual = OnnxEncoder(out_dir).encode(PROBES)
    agreement = (expected * actual).sum(axis=1)
    if agreement.min() < MIN_AGREEMENT:
        raise UnsupportedModel(f"ONNX vectors differ from sentence-transformers' (cosine {agreement.min():.4f})")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    try:
        export(argv[0], Path(argv[1]))
    except UnsupportedModel as error:
        print(f"cannot export {argv[0]}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
