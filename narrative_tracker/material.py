"""Loaders of labelled material, shared by the learning code (``narratives/heads.py``, ``narratives train``) and the
evaluation code (``narrative_tracker/evaluation/``), so that learning never imports evaluation
(``tests/test_layering.py`` checks the import graph).

* the project's labelled paragraph set (``tests/labelled/paragraphs.csv``): ``load_labelled``, split into a *tune*
  part (``is_tune``: odd-numbered held-out rows, sample articles 000-001) and a *test* part that no training reads;
* SemEval-2025 Task 10 (subtask 2) folders: ``load_semeval`` (``documents/*.txt`` with the title on line 1,
  ``labels.tsv`` = ``file \\t narratives ;-sep \\t subnarratives ;-sep``, ``explanations.tsv``, the taxonomy files
  ``subtask2_narratives.txt`` / ``subtask2_subnarratives.txt``; a document with no narrative is ``Other``), and
  ``codebook_from_semeval``, which turns the taxonomy into a codebook.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from narrative_tracker.paragraphs.clean import paragraphs_of
from narrative_tracker.settings import DEFAULT_LABELLED

OTHER = "Other"
TITLE_WEIGHT = 2.0  # a labelled document's vector: the title counts this many times in the mean of its paragraph vectors

# The tune part: odd-numbered held-out paragraphs and two of the five sample articles. Everything else
# (even-numbered held-out paragraphs, sample articles 002-004) is never looked at while choosing settings.
TUNE_SAMPLE_ARTICLES = ("000", "001")


def is_tune(row_id: str) -> bool:
    if row_id.startswith("h"):
        return int(row_id[1:]) % 2 == 1
    return row_id[1:4] in TUNE_SAMPLE_ARTICLES


@dataclass(frozen=True)
class LabelledParagraph:
    id: str
    split: str  # 'sample' | 'heldout'
    text: str
    narratives: frozenset[str]
    group: str  # article for context (sample rows), else the row id
    position: int
    stances: tuple[tuple[str, str], ...] = ()  # (narrative, stance) pairs, for rows with narratives

    @property
    def part(self) -> str:
        return "tune" if is_tune(self.id) else "test"


def load_labelled(path: str | os.PathLike = DEFAULT_LABELLED) -> list[LabelledParagraph]:
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            match = re.match(r"(.+)#(\d+)$", row.get("source") or "")
            group, position = (match.group(1), int(match.group(2))) if match else (row["id"], 0)
            labels = frozenset(x.strip() for x in (row.get("narratives") or "").split(";") if x.strip())
            rows.append(LabelledParagraph(row["id"], row.get("split") or "", row["text"], labels, group, position,
                                          _parse_stances(row.get("stance") or "", labels)))
    return rows


def _parse_stances(value: str, labels: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """``asserts`` (every narrative of the row) or ``foreign_hand:asserts;isis_infiltration:refutes``."""
    value = value.strip()
    if not value:
        return ()
    if ":" not in value:
        return tuple((label, value) for label in sorted(labels))
    pairs = [p.split(":", 1) for p in value.split(";") if p.strip()]
    return tuple(sorted((k.strip(), v.strip()) for k, v in pairs))


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    paragraphs: tuple[str, ...]
    coarse: frozenset[str]
    fine: frozenset[str]


@dataclass(frozen=True)
class SemEvalData:
    documents: tuple[Document, ...]
    narratives: tuple[str, ...]  # coarse taxonomy, without Other
    subnarratives: tuple[str, ...]  # fine taxonomy "<coarse>: <fine>"
    explanations: dict[str, list[tuple[str, str]]]  # coarse -> (file, human explanation)


def _split(value: str) -> frozenset[str]:
    items = frozenset(v.strip() for v in value.split(";") if v.strip())
    return items or frozenset({OTHER})


def load_semeval(root: str | Path) -> SemEvalData:
    root = Path(root)
    labels: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    with open(root / "labels.tsv", encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if row:
                labels[row[0]] = (_split(row[1] if len(row) > 1 else ""), _split(row[2] if len(row) > 2 else ""))
    documents = []
    for path in sorted((root / "documents").glob("*.txt")):
        if path.name not in labels:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        title, _, body = text.partition("\n")
        kept, _ = paragraphs_of(body)
        paragraphs = tuple(p.text for p in kept) or (title.strip(),)
        coarse, fine = labels[path.name]
        documents.append(Document(path.name, title.strip(), paragraphs, coarse, fine))
    read = lambda name: tuple(  # noqa: E731
        line.strip() for line in (root / name).read_text(encoding="utf-8").splitlines() if line.strip() and line.strip() != OTHER
    )
    explanations: dict[str, list[tuple[str, str]]] = {}
    if (root / "explanations.tsv").exists():
        with open(root / "explanations.tsv", encoding="utf-8") as handle:
            for row in csv.reader(handle, delimiter="\t"):
                if len(row) >= 4 and row[3].strip():
                    explanations.setdefault(row[1].strip(), []).append((row[0].strip(), row[3].strip()))
    return SemEvalData(tuple(documents), read("subtask2_narratives.txt"), read("subtask2_subnarratives.txt"), explanations)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60]


def codebook_from_semeval(data: SemEvalData, max_explanations: int = 6, files: set[str] | None = None) -> dict:
    """A codebook (as a YAML-ready dict) with one narrative per coarse label of the taxonomy.

    Examples are the subnarrative statements of the taxonomy (written as claims) plus up to
    ``max_explanations`` human explanations from ``explanations.tsv`` — only those of ``files`` when given
    (cross-validation passes the training documents, so no test document's explanation leaks in).
    """
    narratives = []
    for name in data.narratives:
        subs = [s.split(": ", 2)[-1] for s in data.subnarratives if s.startswith(name + ": ") and not s.endswith(": Other")]
        notes = [text for file, text in data.explanations.get(name, []) if files is None or file in files]
        examples = subs + notes[:max_explanations]
        domain, _, short = name.partition(": ")
        narratives.append(
            {
                "id": slug(name),
                "label": name,
                "description": f"SemEval-2025 Task 10 narrative ({domain}): {short}. Subnarratives: " + "; ".join(subs),
                "examples": examples or [short],
            }
        )
    return {"version": 1, "source": "SemEval-2025 Task 10 subtask 2 taxonomy", "narratives": narratives}


# FNC-1-format stance pairs (the pair model trains on them, `narratives evaluate --stance-pairs` scores them)
STANCE_CLASSES = ("asserts", "reports", "refutes", "unrelated")  # the order of the stance and pair models
FNC_MAP = {"agree": "asserts", "discuss": "reports", "disagree": "refutes", "unrelated": "unrelated"}


def _fnc_files(directory: str | os.PathLike) -> tuple[Path, Path]:
    directory = Path(directory)
    bodies_path, stances_path = directory / "bodies.csv", directory / "stances.csv"
    for p in (bodies_path, stances_path):
        if not p.is_file():
            raise FileNotFoundError(f"{p} not found: an FNC-1-format folder holds bodies.csv and stances.csv")
    return bodies_path, stances_path


def load_fnc_pairs(directory: str | os.PathLike) -> tuple[list[str], list[str], list[str], list[str]]:
    """``(claims, texts, labels, body_ids)`` from an FNC-1-format folder."""
    bodies_path, stances_path = _fnc_files(directory)
    with open(bodies_path, newline="", encoding="utf-8") as handle:
        bodies = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(handle)}
    claims, texts, labels, ids = [], [], [], []
    with open(stances_path, newline="", encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle), start=2):
            stance = (row.get("Stance") or "").strip().lower()
            body = row.get("Body ID")
            if stance not in FNC_MAP or body not in bodies:
                raise ValueError(f"{stances_path}:{n}: unknown stance {stance!r} or body id {body!r}")
            claims.append(row["Headline"])
            texts.append(bodies[body])
            labels.append(FNC_MAP[stance])
            ids.append(body)
    return claims, texts, labels, ids


def claim_groups(claims: Sequence[str], body_ids: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """One group id per pair: connected components of headlines and bodies over related pairs."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        parent.setdefault(a, a)
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for claim, body, label in zip(claims, body_ids, labels):
        find("h:" + claim)
        if label != "unrelated":
            ra, rb = find("h:" + claim), find("b:" + str(body))
            if ra != rb:
                parent[ra] = rb
    roots = {r: i for i, r in enumerate(sorted({find("h:" + c) for c in claims}))}
    return np.array([roots[find("h:" + c)] for c in claims])


def fnc_weighted_score(gold: Sequence[str], pred: Sequence[str]) -> float:
    score = best = 0.0
    for g, p in zip(gold, pred):
        if g == "unrelated":
            best += 0.25
            score += 0.25 if p == "unrelated" else 0.0
        else:
            best += 1.0
            if p != "unrelated":
                score += 0.25 + (0.75 if p == g else 0.0)
    return score / best if best else 0.0


def stance_scores(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str] = STANCE_CLASSES) -> dict:
    per_class = {}
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3), "support": tp + fn}
    present = [c for c in classes if per_class[c]["support"]]
    out = {
        "pairs": len(gold),
        "macro_f1": round(float(np.mean([per_class[c]["f1"] for c in present])) if present else 0.0, 3),
        "per_class": per_class,
        "accuracy": round(sum(g == p for g, p in zip(gold, pred)) / len(gold), 3) if gold else 0.0,
    }
    if "unrelated" in classes:
        out["fnc_score"] = round(fnc_weighted_score(gold, pred), 3)
    return out
