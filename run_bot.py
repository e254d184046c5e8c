"""The one entry point: `python run_bot.py --help` lists the modes."""

import os
import sys

# numpy's BLAS threads busy-wait after each small matrix product and then fight the embedding
# model's own threads for the two cores: one BLAS thread cut the p95 query latency from ~105 to ~20 ms.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
