"""The codebook: narratives analysts track by name, read from a YAML file (default ``codebook/narratives.yaml``).

A codebook is input like any other, so it is validated before anything uses it (``load_codebook``):

- the YAML is read with ``yaml.SafeLoader`` and refused when its aliases (``&anchor`` / ``*alias``) would expand it
  past ``MAX_YAML_VALUES`` values (a "billion laughs" bomb is tiny on disk and endless once walked), or when the
  file is over ``MAX_CODEBOOK_BYTES``;
- every entry and the ``detection`` settings go through a pydantic schema (``_Narrative``, ``_Detection``): strict
  types (``keywords: isis`` is a string, not a list of one pattern), finite numbers in range (no ``.nan``), no
  unknown field (a typo such as ``keyword:`` is an error, not silently ignored);
- text fields are sanitised (``textsafe``): they reach the database, the charts and the terminal;
- keyword patterns run in the ``regex`` engine, which matches nested quantifiers such as ``(a+)+$`` without
  exponential backtracking; a pattern still slow on a short probe text at load (``(a|aa)+$``) is refused, and at run
  time each search has a time limit (``CodebookNarrative.keyword_matches``).
"""

from __future__ import annotations

import datetime as dt

import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import regex
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from narrative_tracker import textsafe
from narrative_tracker.settings import DEFAULT_CODEBOOK

_ID = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MAX_CODEBOOK_BYTES = 10 * 1024 * 1024
MAX_YAML_VALUES = 200_000  # values of the codebook once YAML aliases are expanded
MAX_PATTERN_CHARS = 500
KEYWORD_PROBE_SECONDS = 0.1  # a pattern slower than this on a probe text at load is refused
KEYWORD_SEARCH_SECONDS = 0.05  # time limit of one keyword search at run time
KEYWORD_BUDGET_SECONDS = 2.0  # timed-out searches a pattern may cost per call before it is skipped for that call

_log = logging.getLogger(__name__)


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
    since: dt.date | None = None  # an event-bound narrative: texts published before this day never carry it

    @property
    def patterns(self) -> tuple[regex.Pattern, ...]:
        return tuple(regex.compile(k, regex.IGNORECASE | regex.VERSION0) for k in self.keywords)

    def keyword_matches(self, texts: list[str]) -> list[bool]:
        """Whether any keyword pattern matches each text. Each search has a time limit (``KEYWORD_SEARCH_SECONDS``;
        a timed-out search counts as no match); a pattern whose timeouts cost ``KEYWORD_BUDGET_SECONDS`` in one call
        is skipped for the rest of it, with a warning. Patterns that passed the load check never come near it."""
        found = [False] * len(texts)
        for pattern in self.patterns:
            lost = 0.0
            for i, text in enumerate(texts):
                if found[i]:
                    continue
                try:
                    found[i] = pattern.search(text, timeout=KEYWORD_SEARCH_SECONDS) is not None
                except TimeoutError:
                    lost += KEYWORD_SEARCH_SECONDS
                    if lost >= KEYWORD_BUDGET_SECONDS:
                        _log.warning("%s: keyword %r timed out on %d texts; skipped for the remaining %d texts of this "
                                     "run (rewrite it without nested alternatives)", self.id, pattern.pattern,
                                     round(lost / KEYWORD_SEARCH_SECONDS), len(texts) - i - 1)
                        break
        return found


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
            {"params": vars(self.params), "narratives": [vars(n) for n in self.narratives]}, sort_keys=True,
            default=lambda o: o.isoformat() if isinstance(o, dt.date) else list(o),
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


Finite = Annotated[float, Field(allow_inf_nan=False)]
Score = Annotated[float, Field(ge=-1.0, le=2.0, allow_inf_nan=False)]  # similarity-based scores lie in [-1, 1 + bonus]
Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class _Detection(BaseModel):
    """The ``detection:`` settings (and a model's ``models: {name: {detection: ...}}``)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    default_threshold: Score = 0.5
    top_k: Annotated[int, Field(ge=1, le=100)] = 2
    keyword_bonus: Share = 0.05
    context_weight: Share = 0.0
    operating_point: Literal["default", "relative"] = "default"


class _Narrative(BaseModel):
    """One entry of ``narratives:`` (its id is checked first, for a clearer message)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    id: str
    label: Annotated[str, Field(max_length=textsafe.MAX_FIELD_CHARS)] | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    examples: Annotated[list[Annotated[str, Field(max_length=textsafe.MAX_PARAGRAPH_CHARS)]], Field(max_length=1_000)] = []
    keywords: Annotated[list[Annotated[str, Field(max_length=MAX_PATTERN_CHARS)]], Field(max_length=200)] = []
    threshold: Score | None = None
    calibration: Annotated[list[Finite], Field(min_length=2, max_length=2)] | None = None
    since: Annotated[dt.date, Field(strict=False)] | None = None


def _schema_error(exc: ValidationError, where: str) -> CodebookError:
    """The first problem pydantic found, as one line naming the field."""
    error = exc.errors()[0]
    place = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return CodebookError(f"{where}: unknown field {place!r}")
    return CodebookError(f"{where}: {place}: {error['msg'].lower()} (got {error.get('input')!r:.80})")


def _expanded_size(node, memo: dict) -> int:
    """How many values ``node`` stands for once every alias is expanded (each shared node counted once per use)."""
    key = id(node)
    if key not in memo:
        memo[key] = 0  # a recursive alias counts as nothing more
        if isinstance(node, yaml.SequenceNode):
            memo[key] = 1 + sum(_expanded_size(child, memo) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            memo[key] = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
        else:
            memo[key] = 1
    return memo[key]


def _read_yaml(path: Path):
    """The codebook file parsed with ``yaml.SafeLoader``, refused when too big or when its aliases expand too far."""
    try:
        if path.stat().st_size > MAX_CODEBOOK_BYTES:
            raise CodebookError(f"{path}: over {MAX_CODEBOOK_BYTES // 2**20} MB, not a codebook")
        loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            size = _expanded_size(node, {})
            if size > MAX_YAML_VALUES:
                raise CodebookError(f"{path}: its YAML aliases (&anchor / *alias) expand it to {size:,} values, over "
                                    f"{MAX_YAML_VALUES:,}: refused (an alias bomb?); write the values out")
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        raise CodebookError(f"cannot read codebook {path}: {type(exc).__name__}: {exc}") from exc


def _check_pattern(pattern: str, where: str) -> None:
    """A keyword must compile and run fast on probe texts (runs of each of its letters, then a character that makes
    the match fail: what sends a backtracking engine into exponential time)."""
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)
    except regex.error as exc:
        raise CodebookError(f"{where}: keyword {pattern!r} is not a valid regular expression: {exc}") from exc
    letters = {ch for ch in pattern.lower() if ch.isalnum()} | {"a", "1", " "}
    for ch in sorted(letters):
        probe = ch * 64 + "\u0000!"
        began = time.perf_counter()
        try:
            compiled.search(probe, timeout=KEYWORD_PROBE_SECONDS)
        except TimeoutError:
            raise CodebookError(f"{where}: keyword {pattern!r} takes too long on a {len(probe)}-character text "
                                "(catastrophic backtracking, e.g. (a|aa)+): rewrite it") from None
        if time.perf_counter() - began > KEYWORD_PROBE_SECONDS:
            raise CodebookError(f"{where}: keyword {pattern!r} takes too long on a {len(probe)}-character text: rewrite it")


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
                try:
                    _Narrative.model_validate({"id": nid, key[:-1] if key == "thresholds" else key: value})
                except ValidationError:
                    raise CodebookError(f"{where}: {key}[{nid!r}] must be " + (
                        "a finite number" if key == "thresholds" else "a list [a, b] of two finite numbers")) from None
    entry = models.get(model) or {} if model else {}
    return dict(entry.get("detection") or {}), dict(entry.get("thresholds") or {}), dict(entry.get("calibration") or {})


def load_codebook(path: str | os.PathLike | None = None, model: str | None = None) -> Codebook:
    """Read and validate a codebook YAML file (default: the bundled one; ``Settings.codebook`` is the configured one).

    ``model``: the embedding model's name; its ``models:`` section (if any) replaces the detection settings,
    thresholds and calibrations, which are otherwise those tuned for the default all-MiniLM-L6-v2."""
    path = codebook_path(path)
    raw = _read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("narratives"), list):
        raise CodebookError(f"{path}: expected a mapping with a 'narratives' list")
    detection = raw.get("detection") or {}
    known = set(DetectionParams.__dataclass_fields__)
    unknown = set(detection) - known if isinstance(detection, dict) else set()
    if not isinstance(detection, dict) or unknown:
        raise CodebookError(f"{path}: unknown detection settings {sorted(unknown)}; known: {sorted(known)}")
    ids = {e.get("id") for e in raw["narratives"] if isinstance(e, dict) and isinstance(e.get("id"), str)}
    model_detection, model_thresholds, model_calibration = _model_settings(raw, path, model, ids)
    try:
        params = DetectionParams(**_Detection.model_validate(detection | model_detection).model_dump())
    except ValidationError as exc:
        raise _schema_error(exc, f"{path}: detection") from None
    narratives = []
    seen: set[str] = set()
    for index, entry in enumerate(raw["narratives"]):
        where = f"{path}: narratives[{index}]"
        if not isinstance(entry, dict):
            raise CodebookError(f"{where}: expected a mapping")
        nid = entry.get("id")
        if not isinstance(nid, str) or not _ID.match(nid):
            raise CodebookError(f"{where}: id must be lower_snake_case (got {nid!r:.80})")
        if nid in seen:
            raise CodebookError(f"{where}: duplicate id {nid!r}")
        seen.add(nid)
        merged = dict(entry)
        if nid in model_thresholds:
            merged["threshold"] = model_thresholds[nid]
        if nid in model_calibration:
            merged["calibration"] = model_calibration[nid]
        try:
            checked = _Narrative.model_validate(merged)
        except ValidationError as exc:
            raise _schema_error(exc, f"{where} ({nid})") from None
        examples = [" ".join((textsafe.clean(e, None) or "").split()) for e in checked.examples]
        if not examples or not all(examples):
            raise CodebookError(f"{where} ({nid}): needs at least one non-empty example statement")
        for k in checked.keywords:
            _check_pattern(k, f"{where} ({nid})")
        narratives.append(
            CodebookNarrative(
                id=nid,
                label=textsafe.clean_label(checked.label) or nid,
                description=" ".join((textsafe.clean(checked.description, None) or "").split()),
                examples=tuple(examples),
                keywords=tuple(checked.keywords),
                threshold=checked.threshold,
                calibration=tuple(checked.calibration) if checked.calibration is not None else None,
                since=checked.since,
            )
        )
    if not narratives:
        raise CodebookError(f"{path}: the codebook has no narratives")
    return Codebook(tuple(narratives), params, str(path))
