"""Per-narrative classifier heads learned from labels, over the frozen paragraph embeddings of one embedder.

A *head* is a logistic regression (scikit-learn, balanced class weights) on a paragraph's unit vector that
answers "does this paragraph carry narrative *k*?" with a probability; the paragraph is assigned when the
probability clears the head's own threshold. Heads replace the codebook similarity detector
(``narrative_tracker.narratives.detect``) for the narratives they were trained for; every other narrative keeps
the similarity detector.

**Training material** (:class:`Example`: one or more texts, the narratives they carry, the narratives they
do not carry):

* ``codebook_material`` — every codebook example statement is a positive for its narrative and a negative for
  the others;
* ``labelled_material`` — the **tune** part of the labelled paragraph set (``tests/labelled/paragraphs.csv``):
  a row is a positive for the narratives it lists and a negative for every other one. Rows of the *test* part
  (even-numbered held-out paragraphs, sample articles 002-004) are never read;
* ``semeval_material`` — labelled documents in SemEval-2025 Task 10 format: one example per document (the
  mean vector of its title and paragraphs), positive for its narratives that the codebook has (matched by id
  or label), negative for the other codebook narratives of the folder's taxonomy (``Other`` documents: for all
  of them); codebook narratives outside the taxonomy are unknown for these documents;
* ``review_material`` — a review CSV an analyst filled (``narratives review``): ``correct_narrative`` yes = a
  positive for that row's narrative, no = a negative for it (other narratives: unknown);
* ``decision_material`` — analyst decisions in the database: the member paragraphs of a discovered narrative
  *promoted* into the codebook are positives for the codebook id it was promoted to; members of a *rejected*
  discovered narrative are negatives for every codebook narrative (the analyst said they carry no narrative).

**The rule for a head**: a narrative gets one when its material holds at least ``MIN_LABELLED_POSITIVES``
positives *besides* the codebook examples (labels, not only the analyst's statements) and at least
``MIN_NEGATIVES`` negatives; otherwise the similarity detector stays in charge of it.

**Operating point**: the regularisation ``C`` (grid ``C_GRID``) and the probability threshold are chosen on
out-of-fold predictions (stratified ``FOLDS``-fold cross-validation inside the training material only): the
pair with the best F1 wins (ties: smaller ``C``, higher threshold). The head kept is refitted on all of it.

**Artifact**: ``heads-<model>.npz`` (float32 weights, thresholds; no pickle) + ``heads-<model>.json`` (model
name, version, sha256 of the training material, narratives, counts per source, chosen C and thresholds, OOF F1).
A head set is only used with the embedder it was trained on.

Length (~470 lines): the four material readers, the fitting rule and the artifact format change together
(the material sha in the artifact key covers all of them); detection only calls ``load`` / ``apply``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ARTIFACT_DIR = Path(__file__).resolve().parent / "heads_artifact"
FORMAT = 1
MIN_LABELLED_POSITIVES = 5  # labelled positives (besides codebook examples) a narrative needs for a head
MIN_NEGATIVES = 10
C_GRID = (0.5, 1.0, 2.0, 4.0)
FOLDS = 5
SEED = 0
SIMILARITY = "similarity"  # detection_model of rows the codebook similarity detector decided


@dataclass(frozen=True)
class Example:
    """Labelled material: ``texts`` (one paragraph, or a document's title and paragraphs: its vector is their
    normalised mean, the first text counting ``title_weight`` times), the narratives it carries and those it does not
    (``negatives=None``: every narrative not in ``positives``)."""

    texts: tuple[str, ...]
    positives: frozenset[str]
    negatives: frozenset[str] | None
    source: str  # codebook | labelled | semeval | review | decisions
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # a stored vector (database), if known
    title_weight: float = 1.0  # weight of texts[0] in the mean (SemEval documents: material.TITLE_WEIGHT)

    def label(self, narrative_id: str) -> bool | None:
        if narrative_id in self.positives:
            return True
        if self.negatives is None or narrative_id in self.negatives:
            return False
        return None


# --------------------------------------------------------------------------------------------- material
def codebook_material(codebook) -> list[Example]:
    """Codebook example statements: positives for their narrative, negatives for the others."""
    return [Example((text,), frozenset({n.id}), None, "codebook") for n in codebook.narratives for text in n.examples]


def labelled_material(path: str | os.PathLike | None = None) -> list[Example]:
    """The *tune* part of a labelled paragraph CSV (never the test part): fully labelled paragraphs."""
    from narrative_tracker.material import DEFAULT_LABELLED, load_labelled

    rows = load_labelled(path or DEFAULT_LABELLED)
    return [Example((r.text,), frozenset(r.narratives), None, "labelled") for r in rows if r.part == "tune"]


def test_leaks(codebook, path: str | os.PathLike | None = None) -> list[str]:
    """Codebook examples that are a sentence of (or appear inside) a *test*-part row of the labelled set: training
    on them, or on labels chosen with them, would measure the test part on itself. ``train`` refuses them."""
    from narrative_tracker.material import DEFAULT_LABELLED, load_labelled

    def norm(text: str) -> str:
        return re.sub(r"\W+", " ", text.lower()).strip()

    tests = [norm(r.text) for r in load_labelled(path or DEFAULT_LABELLED) if r.part == "test"]
    return [e for n in codebook.narratives for e in n.examples if len(norm(e)) > 20 and any(norm(e) in t for t in tests)]


def _match(names: Iterable[str], codebook) -> frozenset[str]:
    """Codebook ids named by id, label or a slug of the label (SemEval labels are human names)."""
    from narrative_tracker.material import slug

    by = {}
    for n in codebook.narratives:
        for key in (n.id, n.label, slug(n.label)):
            by[key.lower()] = n.id
    hits = (by.get(x.lower()) or by.get(slug(x)) for x in names)
    return frozenset(h for h in hits if h)


def semeval_material(directory: str | os.PathLike, codebook, files: set[str] | None = None) -> list[Example]:
    """Documents of a SemEval-2025 Task 10 folder (``documents/*.txt`` + ``labels.tsv``), one example each;
    ``files``: only these documents (cross-validation passes its training folds)."""
    from narrative_tracker.material import OTHER, TITLE_WEIGHT, load_semeval

    data = load_semeval(directory)
    taxonomy = _match(data.narratives, codebook)  # the codebook narratives these labels speak about
    out = []
    for doc in data.documents:
        if files is not None and doc.id not in files:
            continue
        positives = _match([c for c in doc.coarse if c != OTHER], codebook)
        if positives or taxonomy:  # a document labelled only with narratives the codebook lacks says nothing
            out.append(Example((doc.title, *doc.paragraphs[:40]), positives, taxonomy - positives, "semeval",
                               title_weight=TITLE_WEIGHT))
    return out


def review_material(path: str | os.PathLike) -> list[Example]:
    """A filled review CSV: ``correct_narrative`` yes -> positive, no -> negative for the row's narrative."""
    from narrative_tracker.narratives.review import restore  # cells that began like a formula were written with a quote

    out = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"narrative_id", "text", "correct_narrative"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: not a review CSV (missing columns: {', '.join(sorted(missing))})")
        for n, row in enumerate(reader, start=2):
            verdict = (row.get("correct_narrative") or "").strip().lower()
            if not verdict:
                continue
            if verdict not in ("yes", "no"):
                raise ValueError(f"{path}:{n}: correct_narrative must be yes or no, not {verdict!r}")
            nid, text = (row.get("narrative_id") or "").strip(), restore(row.get("text") or "")  # the quote a formula got
            if not nid or not text.strip():
                raise ValueError(f"{path}:{n}: a labelled row needs narrative_id and text")
            yes = verdict == "yes"
            out.append(Example((text,), frozenset({nid}) if yes else frozenset(), frozenset() if yes else frozenset({nid}), "review"))
    return out


def decision_material(con, codebook, model: str) -> list[Example]:
    """Analyst decisions in a database (see module docs), with the vectors it stores for ``model``."""
    from narrative_tracker import db
    from narrative_tracker.narratives.frames import load_vectors

    frame = con.execute(db.query("decision_training_vectors"), {"model": model}).pl()
    if not frame.height:
        return []
    vectors = load_vectors(frame)
    ids = frozenset(codebook.ids)
    out = []
    for (action, value, text), vec in zip(frame.select("action", "value", "text").iter_rows(), vectors):
        if action == "promote" and value in ids:
            out.append(Example((text,), frozenset({value}), frozenset(), "decisions", vec))
        elif action == "reject":
            out.append(Example((text,), frozenset(), ids, "decisions", vec))
    return out


def material_sha(material: Sequence[Example], model: str) -> str:
    """sha256 of the training material (texts, labels, sources) and the embedder name: the artifact's key."""
    h = hashlib.sha256(f"{FORMAT}\x00{model}\x00".encode())
    for e in material:
        h.update(json.dumps([list(e.texts), sorted(e.positives), None if e.negatives is None else sorted(e.negatives), e.source]
                            + ([e.title_weight] if e.title_weight != 1.0 else []), ensure_ascii=False).encode())
        h.update(b"\x01")
    return h.hexdigest()


# --------------------------------------------------------------------------------------------- vectors
def example_vectors(material: Sequence[Example], embedder, cache: dict[str, np.ndarray] | None = None,
                    progress: Callable[[str], None] | None = None) -> np.ndarray:
    """``(n, d)`` unit vectors of the examples: a stored vector when the example has one, else the texts embedded
    once each (``cache``: text -> vector, reused and filled)."""
    cache = {} if cache is None else cache
    todo = sorted({t for e in material if e.vector is None for t in e.texts if t not in cache})
    if todo:
        if progress:
            progress(f"embedding {len(todo)} texts with {embedder.name}")
        for start in range(0, len(todo), 512):
            part = todo[start:start + 512]
            cache.update(zip(part, np.asarray(embedder.encode(part), np.float32)))
            if progress and len(todo) > 512:
                progress(f"  {min(start + 512, len(todo))}/{len(todo)} texts")
    rows = []
    for e in material:
        if e.vector is not None:
            v = np.asarray(e.vector, np.float32)
        else:
            weights = np.ones(len(e.texts))
            weights[0] = e.title_weight
            v = np.average([cache[t] for t in e.texts], axis=0, weights=weights)
        rows.append(v / max(float(np.linalg.norm(v)), 1e-12))
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, getattr(embedder, "dim", 0)), np.float32)


# --------------------------------------------------------------------------------------------- the heads
@dataclass
class Heads:
    """Trained heads: ``proba(vectors) -> (n, H)`` for the narratives in ``narrative_ids``."""

    narrative_ids: list[str]
    weights: np.ndarray  # (H, d) float32
    bias: np.ndarray  # (H,)
    thresholds: np.ndarray  # (H,)
    meta: dict

    @property
    def model(self) -> str:
        return str(self.meta["model"])

    @property
    def key(self) -> str:
        """What the rows it scores store in ``paragraph_narratives.detection_model``."""
        return f"heads:{self.meta['version']}:{self.meta['material_sha256'][:12]}"

    def proba(self, vectors: np.ndarray) -> np.ndarray:
        z = np.asarray(vectors, np.float32) @ self.weights.T + self.bias[None, :]
        return (1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))).astype(np.float32)

    def index(self, narrative_id: str) -> int | None:
        return self.narrative_ids.index(narrative_id) if narrative_id in self.narrative_ids else None

    # persistence ----------------------------------------------------------------------------------------
    def save(self, directory: str | os.PathLike) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        stem = artifact_stem(self.model)
        np.savez_compressed(directory / f"{stem}.npz", weights=self.weights.astype(np.float32),
                            bias=self.bias.astype(np.float32), thresholds=self.thresholds.astype(np.float32))
        meta = dict(self.meta, narratives=self.narrative_ids, format=FORMAT)
        (directory / f"{stem}.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return directory / f"{stem}.json"

    @classmethod
    def load(cls, path: str | os.PathLike, model: str | None = None) -> Heads:
        """From a ``heads-<model>.json`` file, or a folder holding one for ``model``."""
        path = Path(path)
        if path.is_dir():
            if not model:
                raise ValueError(f"{path} is a folder: name the embedding model whose heads to load")
            path = path / f"{artifact_stem(model)}.json"
        npz = path.with_suffix(".npz")
        if not path.is_file() or not npz.is_file():
            raise FileNotFoundError(f"no heads artifact at {path} (expected {path.name} and {npz.name}); "
                                    "train one with `narratives train`")
        meta = json.loads(path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: heads format {meta.get('format')!r}, this version reads {FORMAT}")
        if model and meta.get("model") != model:
            raise ValueError(f"{path}: heads trained on embeddings of {meta.get('model')!r}, not {model!r}; "
                             "train heads for this model with `narratives train --model NAME`")
        with np.load(npz, allow_pickle=False) as data:
            weights, bias, thresholds = data["weights"], data["bias"], data["thresholds"]
        ids = list(meta["narratives"])
        if weights.shape[0] != len(ids):
            raise ValueError(f"{path}: {len(ids)} narratives but {weights.shape[0]} heads in {npz.name}")
        return cls(ids, weights, bias, thresholds, meta)


def artifact_stem(model: str) -> str:
    return "heads-" + re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model).name if os.sep in model else model)


def resolve_heads(setting: str | os.PathLike | None, model: str) -> Heads | None:
    """The heads a run uses. ``setting`` (``Settings.heads`` / ``NARRATIVES_HEADS``): empty = the shipped artifact
    for ``model`` if there is one (else None: the similarity detector); ``none`` = no heads; a path = that
    artifact (a file, or a folder holding ``heads-<model>.json``), which must exist and match ``model``."""
    value = str(setting or "").strip()
    if value.lower() in ("none", "off", "0", "similarity"):
        return None
    if not value:
        shipped = ARTIFACT_DIR / f"{artifact_stem(model)}.json"
        return Heads.load(shipped, model) if shipped.is_file() else None
    return Heads.load(value, model)


def heads_key(setting: str | os.PathLike | None, model_setting: str | None) -> str | None:
    """The key of the heads a run with these settings uses (None: the similarity detector), without loading the
    embedding model: ``model_setting`` is ``Settings.model`` (empty: the bundled MiniLM)."""
    from narrative_tracker.embeddings.embed import DEFAULT_MODEL_NAME, MODEL_NAMES

    model = (model_setting or "").strip() or DEFAULT_MODEL_NAME
    name = model if model in MODEL_NAMES else str(Path(model).resolve())
    heads = resolve_heads(setting, name)
    return heads.key if heads else None


# --------------------------------------------------------------------------------------------- training
def _f1_threshold(proba: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """Threshold (0.05..0.95) with the best F1 of ``proba >= t`` on ``gold``; ties: the higher threshold."""
    best_t, best_f1 = 0.5, -1.0
    for t in np.round(np.arange(0.05, 0.951, 0.01), 2):
        pred = proba >= t
        denom = int(pred.sum() + gold.sum())
        f1 = 2 * int((pred & gold).sum()) / denom if denom else 0.0
        if f1 >= best_f1:
            best_t, best_f1 = float(t), f1
    return best_t, best_f1


def fit_head(x: np.ndarray, y: np.ndarray, folds: int = FOLDS, seed: int = SEED, c_grid: Sequence[float] = C_GRID) -> dict:
    """One head: ``C`` and threshold by out-of-fold F1 inside ``(x, y)``, then a refit on all of it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    k = max(2, min(folds, int(y.sum()), int((~y).sum())))
    splits = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(x, y))
    best = None
    for c in c_grid:
        oof = np.zeros(len(y))
        for a, b in splits:
            oof[b] = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(x[a], y[a]).predict_proba(x[b])[:, 1]
        t, f1 = _f1_threshold(oof, y)
        if best is None or f1 > best["oof_f1"] + 1e-9:
            best = {"C": c, "threshold": t, "oof_f1": round(f1, 4)}
    model = LogisticRegression(C=best["C"], class_weight="balanced", max_iter=3000).fit(x, y)
    best["w"], best["b"] = model.coef_[0].astype(np.float32), float(model.intercept_[0])
    return best


def train_heads(material: Sequence[Example], embedder, narrative_ids: Sequence[str], version: str | None = None,
                vectors: np.ndarray | None = None, progress: Callable[[str], None] | None = None,
                c_grid: Sequence[float] = C_GRID) -> Heads:
    """Train one head per narrative of ``narrative_ids`` that has enough labels (see module docs).

    ``vectors``: the examples' vectors when already computed (else embedded here). Raises ``ValueError`` when no
    narrative has enough labels."""
    say = progress or (lambda _msg: None)
    material = list(material)
    if vectors is None:
        vectors = example_vectors(material, embedder, progress=say)
    model = embedder.name
    kept, weights, bias, thresholds, per = [], [], [], [], {}
    for n, nid in enumerate(narrative_ids, start=1):
        labels = [e.label(nid) for e in material]
        known = np.array([v is not None for v in labels])
        y = np.array([bool(v) for v in labels])[known]
        labelled_pos = sum(1 for e, v in zip(material, labels) if v and e.source != "codebook")
        counts = {"positives": int(y.sum()), "labelled_positives": labelled_pos, "negatives": int((~y).sum())}
        if labelled_pos < MIN_LABELLED_POSITIVES or counts["negatives"] < MIN_NEGATIVES:
            per[nid] = dict(counts, head=False, reason=f"needs >= {MIN_LABELLED_POSITIVES} labelled positives and "
                                                      f">= {MIN_NEGATIVES} negatives: similarity detector")
            say(f"[{n}/{len(narrative_ids)}] {nid}: {labelled_pos} labelled positives, {counts['negatives']} negatives "
                "- too few, keeps the similarity detector")
            continue
        say(f"[{n}/{len(narrative_ids)}] {nid}: {counts['positives']} positives ({labelled_pos} labelled), "
            f"{counts['negatives']} negatives - fitting")
        head = fit_head(vectors[known], y, c_grid=c_grid)
        kept.append(nid)
        weights.append(head["w"])
        bias.append(head["b"])
        thresholds.append(head["threshold"])
        per[nid] = dict(counts, head=True, C=head["C"], threshold=head["threshold"], oof_f1=head["oof_f1"])
        say(f"      C={head['C']} threshold={head['threshold']} out-of-fold F1={head['oof_f1']}")
    if not kept:
        raise ValueError("no narrative has enough labels for a head "
                         f"(each needs >= {MIN_LABELLED_POSITIVES} labelled positives and >= {MIN_NEGATIVES} negatives)")
    sources: dict[str, int] = {}
    for e in material:
        sources[e.source] = sources.get(e.source, 0) + 1
    now = dt.datetime.now(dt.timezone.utc)
    meta = {
        "model": model,
        "version": version or now.strftime("heads-%Y%m%dT%H%M"),
        "material_sha256": material_sha(material, model),
        "trained_at": now.replace(microsecond=0, tzinfo=None).isoformat(),
        "examples": len(material),
        "sources": sources,
        "per_narrative": per,
        "rule": f"head when >= {MIN_LABELLED_POSITIVES} labelled positives and >= {MIN_NEGATIVES} negatives; C in "
                f"{list(c_grid)} and threshold by {FOLDS}-fold out-of-fold F1 on the training material",
    }
    return Heads(kept, np.stack(weights), np.array(bias, np.float32), np.array(thresholds, np.float32), meta)


@dataclass
class TrainReport:
    heads: Heads
    path: Path | None


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def train(codebook, embedder, labelled: str | os.PathLike | None | bool = None, semeval: Sequence[str | os.PathLike] = (),
          reviews: Sequence[str | os.PathLike] = (), con=None, out_dir: str | os.PathLike | None = None,
          version: str | None = None, write: bool = True, db_path: str | os.PathLike | None = None,
          progress: Callable[[str], None] | None = stderr_progress) -> TrainReport:
    """Gather the material (codebook examples; the labelled set's tune part unless ``labelled is False``; SemEval
    folders; review CSVs; decisions in ``con``, or in the database ``db_path`` opened read-only), train, and
    (``write``) save the artifact into ``out_dir`` (default: the shipped folder,
    ``narrative_tracker/narratives/heads_artifact``)."""
    if db_path is not None and con is None:
        from narrative_tracker import db, warehouse

        if not warehouse.is_lake_url(str(db_path)) and not Path(db_path).is_file():
            raise FileNotFoundError(f"no database at {db_path}")
        with db.connection(db_path, read_only=True) as opened:
            return train(codebook, embedder, labelled, semeval, reviews, opened, out_dir, version, write, None, progress)
    say = progress or (lambda _msg: None)
    material = codebook_material(codebook)
    if labelled is not False:
        leaks = test_leaks(codebook, labelled or None)
        if leaks:
            raise ValueError(f"{len(leaks)} codebook example(s) are sentences of test-part paragraphs of the labelled set "
                             f"(first: {leaks[0]!r}); rewrite them from tune material before training")
        material += labelled_material(labelled or None)
    for folder in semeval:
        material += semeval_material(folder, codebook)
    for path in reviews:
        material += review_material(path)
    if con is not None:
        material += decision_material(con, codebook, embedder.name)
    say(f"training material: {len(material)} examples "
        + ", ".join(f"{s} {sum(e.source == s for e in material)}" for s in dict.fromkeys(e.source for e in material)))
    heads = train_heads(material, embedder, codebook.ids, version=version, progress=say)
    path = heads.save(out_dir or ARTIFACT_DIR) if write else None
    if path:
        say(f"wrote {path} ({heads.key}; heads for {', '.join(heads.narrative_ids)})")
    return TrainReport(heads, path)


@dataclass(frozen=True)
class TrainRequest:
    """What ``narratives train`` asks for (see :func:`train`); ``db``: learn from its analyst decisions."""

    model: str = ""
    precision: str = "auto"
    codebook: str | os.PathLike | None = None
    labelled: str | os.PathLike | None | bool = None
    semeval: tuple[str, ...] = ()
    reviews: tuple[str, ...] = ()
    db: str | None = None
    out_dir: str | os.PathLike | None = None
    version: str | None = None


def train_request(request: TrainRequest, progress: Callable[[str], None] | None = stderr_progress) -> TrainReport:
    """Build the embedder and codebook the request names, then :func:`train` (the ``narratives train`` command)."""
    from narrative_tracker.embeddings.embed import make_embedder
    from narrative_tracker.narratives.codebook import load_codebook

    embedder = make_embedder(request.model, precision=request.precision)
    codebook = load_codebook(request.codebook, model=embedder.name)
    return train(codebook, embedder, request.labelled, request.semeval, request.reviews, out_dir=request.out_dir,
                 version=request.version, db_path=request.db, progress=progress)
