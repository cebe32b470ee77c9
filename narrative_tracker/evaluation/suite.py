"""``narratives evaluate`` as two functions: :func:`evaluate` measures, :func:`format_result` renders the tables.

What is measured (each part documented in docs/methods.md): codebook detection per narrative on the labelled
paragraphs (tune / test / sample parts), optionally the tune-part grid search, the stance of the labelled pairs,
calibration, discovery agreement with tags (``discovery_db``), document-level labels against a database
(``documents``), SemEval cross-validation and cross-lingual transfer (``semeval``, ``semeval_train``); and, on its
own, the stance model on FNC-1-format pairs (:func:`evaluate_stance_pairs`).
"""

from __future__ import annotations

import dataclasses
import json
import os


@dataclasses.dataclass(frozen=True)
class EvaluationRequest:
    model: str = ""
    precision: str = "auto"
    codebook: str | os.PathLike | None = None
    labelled: str | os.PathLike | None = None  # default: the bundled labelled paragraphs
    tune: bool = False
    discovery_db: str = ""
    discovery_since: str | None = None  # ISO day: only articles published on it or later
    documents: str = ""
    db: str = ""
    semeval: str = ""
    semeval_train: str = ""
    semeval_joint: tuple[str, ...] = ()  # several SemEval folders: heads trained on all together, CV per folder
    folds: int = 5
    heads: str = ""  # Settings.heads: trained narrative heads (empty: the shipped ones for the model, 'none': similarity only)
    stance_model: str = ""  # Settings.stance_model: the pair model (empty: the shipped one, 'none': the detector decides)


def evaluate(request: EvaluationRequest) -> dict:
    from narrative_tracker.embeddings.embed import make_embedder
    from narrative_tracker.evaluation.evaluate import calibration_table, evaluate_paragraphs, evaluate_stance, tune_detection
    from narrative_tracker.material import DEFAULT_LABELLED
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.narratives.heads import SIMILARITY, resolve_heads
    from narrative_tracker.narratives.pair_model import resolve_pair_model

    embedder = make_embedder(request.model, precision=request.precision)
    codebook = load_codebook(request.codebook, model=embedder.name)
    labelled = request.labelled or DEFAULT_LABELLED
    heads = resolve_heads(request.heads, embedder.name)  # the same detection path as a run
    pair_model = resolve_pair_model(request.stance_model, sentence_ranker=embedder)
    result = {"codebook": codebook.path, "labelled": str(labelled), "model": embedder.name, "narratives": codebook.ids,
              "detector": {n: (heads.key if heads and heads.index(n) is not None else SIMILARITY) for n in codebook.ids},
              "pair_model": pair_model.key if pair_model else None,
              "parts": evaluate_paragraphs(codebook, embedder, labelled, heads=heads, pair_model=pair_model)}
    if request.tune:
        result["tuned"] = tune_detection(codebook, embedder, labelled)
    if request.discovery_db:
        from narrative_tracker.db import connection
        from narrative_tracker.evaluation.evaluate import discovery_agreement_db

        with connection(request.discovery_db, read_only=True) as con:
            result["discovery"] = discovery_agreement_db(con, request.discovery_since)
    if request.documents:
        from narrative_tracker.db import connection
        from narrative_tracker.evaluation.evaluate import evaluate_documents

        with connection(request.db, read_only=True) as con:
            result["documents"] = evaluate_documents(con, request.documents)
    if request.semeval:
        from narrative_tracker.evaluation.semeval import cross_validate, transfer
        from narrative_tracker.material import load_semeval

        result["semeval_cv"] = cross_validate(load_semeval(request.semeval), embedder, folds=request.folds)
        if request.semeval_train:
            result["semeval_transfer"] = transfer(load_semeval(request.semeval_train), load_semeval(request.semeval), embedder)
    if request.semeval_joint:
        from narrative_tracker.evaluation.semeval_joint import joint_cross_validate
        from narrative_tracker.material import load_semeval

        result["semeval_joint"] = joint_cross_validate([load_semeval(f) for f in request.semeval_joint],
                                                       list(request.semeval_joint), embedder, folds=request.folds)
    result["stance"] = evaluate_stance(labelled)
    result["calibration"] = calibration_table(codebook, embedder, labelled)
    return result


def format_result(result: dict, request: EvaluationRequest) -> str:
    out = [f"codebook {result['codebook']}\nlabelled {result['labelled']}\nmodel    {result['model']}\n"
           f"detector " + ", ".join(f"{n}: {d}" for n, d in result["detector"].items())
           + ("  (heads train on the tune part: their tune figures are in-sample)" if any(
               d.startswith("heads:") for d in result["detector"].values()) else "") + "\n"
           f"decides  {result.get('pair_model') or 'the detector (no pair model)'}\n"]
    for part, table in result["parts"].items():
        out.append(f"{part} ({table['paragraphs']} paragraphs): mentions macro-F1 {table['macro_f1']:.3f}, asserts macro-F1 "
                   f"{table['asserts']['macro_f1']:.3f}, stance accuracy {table['stance_accuracy']} ({table['stance_pairs']} pairs)")
        out.append(f"  {'narrative':<22}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}")
        for name in result["narratives"] + ["micro"]:
            row = table[name]
            out.append(f"  {name:<22}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}{row['support']:>9}")
        out.append("")
    if "tuned" in result:
        out.append("grid search on the tune part chose: " + json.dumps(result["tuned"]))
    stance = result["stance"]["test"]
    out.append(f"stance on the test part ({stance['pairs']} paragraph-narrative pairs): accuracy {stance['accuracy']:.3f}")
    for name in ("asserts", "reports", "refutes"):
        row = stance[name]
        out.append(f"  {name:<22}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}{row['support']:>9}")
    if result["calibration"]:
        cal = result["calibration"]
        out.append(f"\ncalibrated confidence on the test part (Brier {cal['brier']:.4f}): "
                   + ", ".join(f"{b['bin']}: {b['mean_confidence']:.2f} vs {b['observed_rate']:.2f} (n={b['pairs']})" for b in cal["bins"]))
    if "discovery" in result:
        out.append(f"\nnarratives vs article tags in {request.discovery_db}"
                   + (f", articles from {request.discovery_since} on" if request.discovery_since else "") + ":")
        for name, row in result["discovery"].items():
            if isinstance(row, dict):
                out.append(f"  {name:<14} " + ", ".join(f"{k} {v}" for k, v in row.items()))
    if "documents" in result:
        docs = result["documents"]
        out.append(f"\ndocuments ({docs['documents']}, {docs['documents_in_database']} in the database): "
                   f"samples-F1 {docs['samples_f1']:.3f}, macro-F1 {docs['macro_f1']:.3f}")
    if "semeval_cv" in result:
        out.append(f"\nSemEval {request.folds}-fold cross-validation ({result['semeval_cv']['documents']} documents), samples-F1:")
        for method, row in _methods(result["semeval_cv"]):
            out.append(f"  {method:<40} coarse {row['coarse_samples_f1']:.3f}   fine {row['fine_samples_f1']:.3f}")
        if "semeval_transfer" in result:
            t = result["semeval_transfer"]
            out.append(f"trained on {request.semeval_train} ({t['train_documents']} documents), scored on {request.semeval} "
                       f"({t['test_documents']}):")
            for method, row in _methods(t):
                out.append(f"  {method:<40} coarse {row['coarse_samples_f1']:.3f}   fine {row['fine_samples_f1']:.3f}")
    if "semeval_joint" in result:
        joint = result["semeval_joint"]
        out.append(f"\nSemEval, heads trained on {len(joint['splits'])} folders together, {request.folds}-fold CV per folder, samples-F1:")
        for name in joint["splits"]:
            for method, row in _methods(joint[name]):
                out.append(f"  {name} ({joint[name]['documents']} documents) {method:<14} coarse {row['coarse_samples_f1']:.3f}   "
                           f"fine {row['fine_samples_f1']:.3f}")
    return "\n".join(out)


def _methods(table: dict) -> list[tuple[str, dict]]:
    """The scored methods of a SemEval result (every entry with a coarse samples-F1), in its order."""
    return [(name, row) for name, row in table.items() if isinstance(row, dict) and "coarse_samples_f1" in row]


def evaluate_stance_pairs(folder: str, folds: int = 5, quiet: bool = False, stance_model: str = "") -> dict:
    """The pair model (``stance_model`` setting) on an FNC-1-format folder; with ``none``, the frozen-feature model."""
    from narrative_tracker.narratives.pair_model import resolve_pair_model

    model = resolve_pair_model(stance_model)
    if model is None:
        from narrative_tracker.evaluation.stance_eval import evaluate_stance_pairs as run

        return run(folder, folds=folds, quiet=quiet)
    from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder
    from narrative_tracker.evaluation.pair_eval import evaluate_pair_folder

    model.sentence_ranker = model.sentence_ranker or SentenceTransformerEmbedder()
    return evaluate_pair_folder(folder, model)


def format_stance_pairs(pairs: dict, folder: str) -> str:
    out = [f"stance on {folder} ({pairs['pairs']} pairs, {pairs['mode']}): macro-F1 {pairs['macro_f1']:.3f}, "
           f"FNC-1 score {pairs['fnc_score']:.3f}, accuracy {pairs['accuracy']:.3f}",
           f"  {'class':<12}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}"]
    for name, row in pairs["per_class"].items():
        out.append(f"  {name:<12}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}{row['support']:>9}")
    return "\n".join(out)
