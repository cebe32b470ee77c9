"""The codebook: narratives analysts track by name, read from a YAML file (default ``codebook/narratives.yaml``)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from narrative_tracker.settings import DEFAULT_CODEBOOK

_ID = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class CodebookError(ValueError):
    """The codebook file is not valid; the message says where and why."""


@dataclass(frozen=True)
class DetectionParams:
    """How paragraph scores are computed (see ``narrative_tracker.narratives.detect``); set under ``detection:``."""

    default_threshold: float = 0.5
    top_k: int = 2  # a paragraph's similarity to a narrative = mean of its top_k closest examples
    keyword_bonus: float = 0.05  # added when a keyword pattern matches the paragraph
    context_weight: float = 0.0  # weight of the best neighbouring paragraph's similarity (same article)
    # how a narrative WITHOUT its own threshold is assigned: 'default' = score >= default_threshold;
    # 'relative' = corpus-relative operating point (detect.relative_assigned), for new narratives without labels
    operating_point: str = "default"


@dataclass(frozen=True)
class CodebookNarrative:
    id: str
    label: str
    description: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    threshold: float | None = None
    calibration: tuple[float, float] | None = None  # (a, b): confidence = 1 / (1 + exp(-(a * score + b)))

    @property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(k, re.I) for k in self.keywords)


@dataclass(frozen=True)
class Codebook:
    narratives: tuple[CodebookNarrative, ...]
    params: DetectionParams = field(default_factory=DetectionParams)
    path: str = ""

    @property
    def ids(self) -> list[str]:
        return [n.id for n in self.narratives]

    def narrative(self, narrative_id: str) -> CodebookNarrative:
        for n in self.narratives:
            if n.id == narrative_id:
                return n
        raise KeyError(narrative_id)

    def threshold(self, narrative_id: str) -> float:
        for n in self.narratives:
            if n.id == narrative_id:
                return self.params.default_threshold if n.threshold is None else n.threshold
        raise KeyError(narrative_id)

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything that affects scores changes."""
        payload = json.dumps(
            {"params": vars(self.params), "narratives": [vars(n) for n in self.narratives]}, sort_keys=True, default=list
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def codebook_path(path: str | os.PathLike | None = None) -> Path:
    """The codebook file in use: ``path`` (callers pass ``Settings.codebook``), else the bundled one."""
    return Path(path or DEFAULT_CODEBOOK)


def _model_settings(raw: dict, path: Path, model: str | None, ids: set[str]) -> tuple[dict, dict, dict]:
    """``(detection, thresholds, calibration)`` overrides of the ``models: {<model name>: ...}`` section.

    Similarity scales differ between embedding models (USE-multilingual cosines run higher than MiniLM's), so
    operating points tuned for one model are wrong for another; each model's are tuned and written here.
    """
    models = raw.get("models") or {}
    if not isinstance(models, dict):
        raise CodebookError(f"{path}: 'models' must be a mapping of model name to settings")
    for name, entry in models.items():
        where = f"{path}: models[{name!r}]"
        if not isinstance(entry, dict) or set(entry) - {"detection", "thresholds", "calibration"}:
            raise CodebookError(f"{where}: expected a mapping with detection / thresholds / calibration")
        unknown = set(entry.get("detection") or {}) - set(DetectionParams.__dataclass_fields__)
        if unknown:
            raise CodebookError(f"{where}: unknown detection settings {sorted(unknown)}")
        for key in ("thresholds", "calibration"):
            values = entry.get(key) or {}
            if not isinstance(values, dict) or set(values) - ids:
                raise CodebookError(f"{where}: {key} must map narrative ids of this codebook to values "
                                    f"(unknown: {sorted(set(values) - ids) if isinstance(values, dict) else values!r})")
            for nid, value in values.items():
                ok = isinstance(value, (int, float)) if key == "thresholds" else (
                    isinstance(value, list) and len(value) == 2 and all(isinstance(x, (int, float)) for x in value))
                if not ok:
                    raise CodebookError(f"{where}: {key}[{nid!r}] must be " + ("a number" if key == "thresholds" else "a list [a, b]"))
    entry = models.get(model) or {} if model else {}
    return dict(entry.get("detection") or {}), dict(entry.get("thresholds") or {}), dict(entry.get("calibration") or {})


def load_codebook(path: str | os.PathLike | None = None, model: str | None = None) -> Codebook:
    """Read and validate a codebook YAML file (default: the bundled one; ``Settings.codebook`` is the configured one).

    ``model``: the embedding model's name; its ``models:`` section (if any) replaces the detection settings,
    thresholds and calibrations, which are otherwise those tuned for the default all-MiniLM-L6-v2."""
    path = codebook_path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CodebookError(f"cannot read codebook {path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("narratives"), list):
        raise CodebookError(f"{path}: expected a mapping with a 'narratives' list")
    detection = raw.get("detection") or {}
    known = set(DetectionParams.__dataclass_fields__)
    unknown = set(detection) - known
    if unknown:
        raise CodebookError(f"{path}: unknown detection settings {sorted(unknown)}; known: {sorted(known)}")
    ids = {e.get("id") for e in raw["narratives"] if isinstance(e, dict)}
    model_detection, model_thresholds, model_calibration = _model_settings(raw, path, model, ids)
    params = DetectionParams(**(detection | model_detection))
    if params.operating_point not in ("default", "relative"):
        raise CodebookError(f"{path}: detection.operating_point must be 'default' or 'relative', not {params.operating_point!r}")
    narratives = []
    seen: set[str] = set()
    for index, entry in enumerate(raw["narratives"]):
        where = f"{path}: narratives[{index}]"
        if not isinstance(entry, dict):
            raise CodebookError(f"{where}: expected a mapping")
        nid = entry.get("id")
        if not isinstance(nid, str) or not _ID.match(nid):
            raise CodebookError(f"{where}: id must be lower_snake_case (got {nid!r})")
        if nid in seen:
            raise CodebookError(f"{where}: duplicate id {nid!r}")
        seen.add(nid)
        examples = entry.get("examples") or []
        if not examples or not all(isinstance(e, str) and e.strip() for e in examples):
            raise CodebookError(f"{where} ({nid}): needs at least one non-empty example statement")
        keywords = tuple(entry.get("keywords") or ())
        for k in keywords:
            try:
                re.compile(k)
            except re.error as exc:
                raise CodebookError(f"{where} ({nid}): keyword {k!r} is not a valid regular expression: {exc}") from exc
        threshold = model_thresholds.get(nid, entry.get("threshold"))
        if threshold is not None and not isinstance(threshold, (int, float)):
            raise CodebookError(f"{where} ({nid}): threshold must be a number")
        calibration = model_calibration.get(nid, entry.get("calibration"))
        if calibration is not None and (
            not isinstance(calibration, list) or len(calibration) != 2 or not all(isinstance(x, (int, float)) for x in calibration)
        ):
            raise CodebookError(f"{where} ({nid}): calibration must be a list [a, b] of two numbers")
        narratives.append(
            CodebookNarrative(
                id=nid,
                label=str(entry.get("label") or nid),
                description=" ".join(str(entry.get("description") or "").split()),
                examples=tuple(" ".join(e.split()) for e in examples),
                keywords=keywords,
                threshold=float(threshold) if threshold is not None else None,
                calibration=(float(calibration[0]), float(calibration[1])) if calibration is not None else None,
            )
        )
    if not narratives:
        raise CodebookError(f"{path}: the codebook has no narratives")
    return Codebook(tuple(narratives), params, str(path))
