"""Export a sentence-transformers model to ONNX, for knowledge.embeddings to run without torch.

    python -m knowledge.onnx_export MODEL OUT_DIR

Writes OUT_DIR/model.onnx (the transformer, returning token embeddings), OUT_DIR/tokenizer.json and
OUT_DIR/encoder.json (pooling, prompt, length limit, which weights to run). Before it finishes, it
encodes a few probe texts both ways and refuses (exit status 2) unless the vectors agree. Run in a
child process, so that torch is loaded only here, once per model, and never in the bot.

It also writes OUT_DIR/model.int8.onnx: the same model with the weights of its feed-forward layers
stored as 8-bit integers (ONNX Runtime's dynamic quantization, one scale per output channel). The
bot runs that one when its vectors agree with the original's (cosine at least MIN_INT8_AGREEMENT on
every probe). For the default model, a question of about 28 tokens costs 5.3 ms of CPU instead of
7.8, and on this project's question sets (bench/retrieval.py's two sets and two blind sets, 640 questions) no
held-out or blind answer abstains differently, the held-out set's figures are unchanged, and on the
labelled set one off-topic question more is answered and one answerable question less abstains.
Quantizing every layer halves the cost, but abstention on the labelled set then falls below the
target (35 of 40 off-topic questions; the target is 36): attention is left as it is.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from knowledge.embeddings import FLOAT_WEIGHTS, OnnxEncoder, quiet_onnxruntime

SUPPORTED_POOLING = ("mean", "cls", "max")
INT8_WEIGHTS = "model.int8.onnx"
PROBES = [
    "Hvad er fristen for at svare på en anmodning om aktindsigt?",
    "partshøring",
    "Må jeg sende et cpr-nummer i en almindelig mail til borgeren? " * 40,  # longer than the limit
]
MIN_AGREEMENT = 0.999  # cosine between the two encodings of every probe
MIN_INT8_AGREEMENT = 0.97  # the same for the 8-bit weights (the default model: 0.99 and more)


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
        "weights": FLOAT_WEIGHTS,
    }
    (out_dir / "encoder.json").write_text(json.dumps(settings, indent=2))
    expected = model.encode(PROBES, normalize_embeddings=True, convert_to_numpy=True)
    agreement = _agreement(expected, out_dir, FLOAT_WEIGHTS)
    if agreement < MIN_AGREEMENT:
        raise UnsupportedModel(f"ONNX vectors differ from sentence-transformers' (cosine {agreement:.4f})")
    settings["weights"] = _quantized(expected, out_dir)
    (out_dir / "encoder.json").write_text(json.dumps(settings, indent=2))


def _quantized(expected, out_dir: Path) -> str:
    """The weights file to run: the 8-bit one if it can be made and agrees, else the original."""
    quiet_onnxruntime()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    try:
        nodes = _feed_forward_products(out_dir / FLOAT_WEIGHTS)
        if not nodes:
            return FLOAT_WEIGHTS  # not named as in BERT-like models: left as it is
        quantize_dynamic(str(out_dir / FLOAT_WEIGHTS), str(out_dir / INT8_WEIGHTS), per_channel=True,
                         weight_type=QuantType.QInt8, nodes_to_quantize=nodes)
        agreement = _agreement(expected, out_dir, INT8_WEIGHTS)
    except Exception as error:  # a model the quantizer cannot handle still runs, unquantized
        print(f"8-bit weights not used: {error}", file=sys.stderr)
        return FLOAT_WEIGHTS
    if agreement < MIN_INT8_AGREEMENT:
        print(f"8-bit weights not used: cosine {agreement:.4f} with the original", file=sys.stderr)
        return FLOAT_WEIGHTS
    return INT8_WEIGHTS


def _feed_forward_products(model_file: Path) -> list[str]:
    """The matrix products of the feed-forward layers, as the export names them in BERT-like models
    (".../layer.0/intermediate/dense/MatMul", ".../layer.0/output/dense/MatMul")."""
    import onnx

    return [node.name for node in onnx.load(str(model_file)).graph.node
            if node.op_type == "MatMul" and "/attention/" not in node.name
            and ("/intermediate/" in node.name or node.name.endswith("/output/dense/MatMul"))]


def _agreement(expected, out_dir: Path, weights: str) -> float:
    """The lowest cosine, over the probes, between sentence-transformers' vectors and ours."""
    return float((expected * OnnxEncoder(out_dir, weights).encode(PROBES)).sum(axis=1).min())


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
