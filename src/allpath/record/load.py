"""Read a patient record from YAML or JSON and check it, reporting every problem at once.

Two passes: pydantic checks shape and types; then the record is checked against the
catalogue and vocabularies (unknown codes with "did you mean", units that do not parse or
do not fit the analyte, values outside plausible ranges, dates in the wrong order). Any
problem raises :class:`~allpath.errors.RecordError` listing all of them with their paths;
nothing is half-read.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from allpath.errors import Problem, RecordError, validation_problems
from allpath.observations.catalogue import Catalogue, load_catalogue
from allpath.record.models import RECORD_FORMAT, PatientRecord
from allpath.record.phenotypes import PHENOTYPES, normalise_phenotype
from allpath.record.vocabulary import Vocabulary, VocabularyKind, load_vocabulary
from allpath.units import UnitError, convert

__all__ = ["MAX_OBSERVATIONS", "MAX_RECORD_CHARS", "load_record", "parse_record",
           "read_document"]

#: the largest record text read (characters); a real record is a few kilobytes
MAX_RECORD_CHARS = 1_000_000
#: the most observations one record may hold: a few years of weekly counts are well under it,
#: and it keeps one assessment under about a second wherever a record comes in (CLI, web
#: page, API); refused before any observation is checked
MAX_OBSERVATIONS = 3000
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _RecordLoader(_BASE_LOADER):  # type: ignore[misc]
    """The safe loader, except that a date that does not exist (``2024-13-01``) stays text,
    so the record check names its field beside every other problem (not a traceback)."""


def _timestamp_or_text(loader: Any, node: Any) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return str(node.value)


_RecordLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)
_YAML_LOADER: Any = _RecordLoader


def _too_large(size: int) -> Problem:
    return Problem("", "the record is too large", expected=f"at most {MAX_RECORD_CHARS} "
                   "characters", got=f"{size} characters")


def load_yaml_text(text: str, source: str | None = None) -> Any:
    """Safe YAML (or JSON) from text, refusing anchors and aliases (``&a``/``*a``: a record
    never needs them, and they let a few hundred bytes expand to gigabytes) and texts
    over :data:`MAX_RECORD_CHARS`; raises :class:`RecordError` naming the line."""
    if len(text) > MAX_RECORD_CHARS:
        raise RecordError([_too_large(len(text))], source)
    _scan_events(text, source)
    return yaml.load(text, Loader=_YAML_LOADER)  # CSafeLoader or SafeLoader


def _scan_events(text: str, source: str | None) -> None:
    """One pass over the parser's events, before any Python object is built (building them
    costs about 0.8 s a megabyte; the events about 0.1 s): refuse an anchor or alias, and a
    top-level ``observations`` list longer than :data:`MAX_OBSERVATIONS` as soon as its
    item past the cap is seen."""
    # per open container: [is a mapping, next node is a key, last key, items counted]
    stack: list[list[Any]] = []
    observations_at = -1  # depth of the top-level observations list, once open
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            mark = event.start_mark
            raise RecordError([Problem(
                f"line {mark.line + 1}, column {mark.column + 1}" if mark else "",
                "YAML anchors and aliases (&name, *name, <<) are not allowed in a record",
                hint="write each value out where it is needed")], source)
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()
            if len(stack) < observations_at:
                observations_at = -1
            continue
        if not isinstance(event, yaml.ScalarEvent | yaml.MappingStartEvent
                          | yaml.SequenceStartEvent):
            continue
        parent = stack[-1] if stack else None
        key = None
        if parent is not None and parent[0]:  # a mapping: keys and values alternate
            if parent[1] and isinstance(event, yaml.ScalarEvent):
                parent[2] = event.value
            key = parent[2] if not parent[1] else None
            parent[1] = not parent[1]
        elif parent is not None and len(stack) == observations_at:
            parent[3] += 1
            if parent[3] > MAX_OBSERVATIONS:
                raise RecordError([Problem(
                    "observations", "too many observations in one record",
                    expected=f"at most {MAX_OBSERVATIONS}", got=f"more than {MAX_OBSERVATIONS}")],
                    source)
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            stack.append([isinstance(event, yaml.MappingStartEvent), True, None, 0])
            if (isinstance(event, yaml.SequenceStartEvent) and len(stack) == 2
                    and key == "observations"):
                observations_at = 2


def read_document(path: str | Path) -> Any:
    """Read YAML or JSON from a file; malformed text is a RecordError, not a traceback."""
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > 4 * MAX_RECORD_CHARS:
            raise RecordError([_too_large(p.stat().st_size)], str(p))
        text = p.read_text(encoding="utf-8")
        if len(text) > MAX_RECORD_CHARS:
            raise RecordError([_too_large(len(text))], str(p))
    except FileNotFoundError:
        raise RecordError([Problem("", "file not found", got=str(p))], str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError([Problem("", f"cannot read file: {exc}")], str(p)) from None
    try:
        if p.suffix.lower() == ".json":
            return json.loads(text)
        return load_yaml_text(text, str(p))
    except json.JSONDecodeError as exc:
        raise RecordError(
            [Problem(f"line {exc.lineno}", f"malformed JSON: {exc.msg}")], str(p)
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(exc, "problem", None) or str(exc)
        raise RecordError([Problem(where, f"malformed YAML: {what}")], str(p)) from None


def load_record(path: str | Path) -> PatientRecord:
    """Read and check a record file (``.yaml``, ``.yml`` or ``.json``)."""
    return parse_record(read_document(path), source=str(path))


def _shown(value: Any) -> str:
    """A value as it came, for a message: text quoted, nothing as 'nothing', never a repr."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return type(value).__name__.replace("dict", "a mapping").replace("list", "a list")


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


class _Checker:
    def __init__(self, catalogue: Catalogue, vocabulary: Vocabulary) -> None:
        self.cat = catalogue
        self.voc = vocabulary
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, **kw: str | None) -> None:
        self.problems.append(Problem(path, message, **kw))

    def term(self, kind: VocabularyKind, word: str, path: str) -> str:
        resolved = self.voc.resolve(kind, word)
        if resolved is None:
            self.add(
                path,
                f"unknown {kind.rstrip('s').replace('_', ' ')}",
                got=_shown(word),
                hint=self.voc.suggest(kind, word) or f"see docs/record-format.md for the {kind}",
            )
            return word
        return resolved

    def check(self, rec: PatientRecord) -> PatientRecord:
        updates: dict[str, Any] = {}
        updates["conditions"] = tuple(
            self.term("conditions", c, f"conditions[{i}]") for i, c in enumerate(rec.conditions)
        )
        symptoms: list[Any] = []
        for i, s in enumerate(rec.symptoms):
            if isinstance(s, str):
                symptoms.append(self.term("symptoms", s, f"symptoms[{i}]"))
            else:
                code = self.term("symptoms", s.code, f"symptoms[{i}].code")
                symptoms.append(s.model_copy(update={"code": code}))
        updates["symptoms"] = tuple(symptoms)
        updates["observations"] = tuple(self._observations(rec))
        if rec.immunophenotype is not None:
            markers = {
                self.term("markers", name, f"immunophenotype.markers.{name}"): value
                for name, value in rec.immunophenotype.markers.items()
            }
            updates["immunophenotype"] = rec.immunophenotype.model_copy(
                update={"markers": markers}
            )
        if rec.genetics is not None:
            updates["genetics"] = self._genetics(rec)
        updates["treatment"] = tuple(
            t.model_copy(
                update={"phase": self.term("treatment_phases", t.phase, f"treatment[{i}].phase")}
            )
            for i, t in enumerate(rec.treatment)
        )
        if rec.pharmacogenomics is not None:
            updates["pharmacogenomics"] = self._phenotypes(rec)
        self._dates(rec)
        return rec.model_copy(update=updates)

    def _phenotypes(self, rec: PatientRecord) -> Any:
        pg = rec.pharmacogenomics
        assert pg is not None
        update: dict[str, str] = {}
        for gene in ("tpmt", "nudt15"):
            value = getattr(pg, gene)
            if value is None:
                continue
            try:
                update[gene] = normalise_phenotype(value, what=gene)
            except RecordError:
                self.add(f"pharmacogenomics.{gene}", f"unknown {gene.upper()} phenotype",
                         expected=" | ".join(PHENOTYPES), got=_shown(value))
        return pg.model_copy(update=update)

    def _observations(self, rec: PatientRecord) -> list[Any]:
        out = []
        for i, obs in enumerate(rec.observations):
            path = f"observations[{i}]"
            if obs.time is None:
                self.add(
                    f"{path}.time",
                    "an observation needs the date (or date-time) it was taken",
                    expected="YYYY-MM-DD",
                    hint="undated results cannot be placed on the timeline",
                )
            analyte = self.cat.resolve(obs.code)
            if analyte is None:
                self.add(
                    f"{path}.code",
                    "unknown observation code",
                    expected="a catalogue code or LOINC code",
                    got=_shown(obs.code),
                    hint=self.cat.suggest(obs.code),
                )
                out.append(obs)
                continue
            if analyte.kind == "categorical":
                if str(obs.value) not in analyte.values:
                    self.add(
                        f"{path}.value",
                        f"invalid value for {analyte.code}",
                        expected=" | ".join(analyte.values),
                        got=_shown(obs.value),
                    )
            else:
                self._quantity(obs.value, obs.unit, analyte, path)
            out.append(obs.model_copy(update={"code": analyte.code}))
        return out

    def _quantity(self, value: Any, unit: str | None, analyte: Any, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(f"{path}.value", f"{analyte.code} needs a number", got=_shown(value))
            return
        if unit is None:
            self.add(
                f"{path}.unit",
                "a quantity needs a unit (units are never assumed)",
                expected=f"a unit convertible to {analyte.unit}",
            )
            return
        try:
            canonical = convert(float(value), unit, analyte.unit, analyte.molar_mass)
        except UnitError:
            self.add(
                f"{path}.unit",
                f"unit does not parse or does not fit {analyte.code}",
                expected=f"a unit convertible to {analyte.unit}",
                got=_shown(unit),
            )
            return
        lo, hi = analyte.plausible
        if not lo <= canonical <= hi:
            self.add(
                f"{path}.value",
                f"{analyte.code} outside the plausible range",
                expected=f"{lo:g} to {hi:g} {analyte.unit}",
                got=f"{value:g} {unit}",
                hint="check the value and its unit",
            )

    def _genetics(self, rec: PatientRecord) -> Any:
        g = rec.genetics
        assert g is not None
        fusions = None
        if g.fusions is not None:
            fusions = []
            for i, f in enumerate(g.fusions):
                parts = f.split("::")
                if len(parts) != 2 or not all(p and p.replace("-", "").isalnum() for p in parts):
                    self.add(
                        f"genetics.fusions[{i}]",
                        "a fusion is written GENE1::GENE2 (HGNC symbols, 5' partner first)",
                        got=_shown(f),
                    )
                fusions.append(f.strip().upper() if "::" in f else f)
        alterations = None
        if g.alterations is not None:
            alterations = tuple(
                self.term("alterations", a, f"genetics.alterations[{i}]")
                for i, a in enumerate(g.alterations)
            )
        return g.model_copy(
            update={
                "fusions": tuple(fusions) if fusions is not None else None,
                "alterations": alterations,
            }
        )

    def _dates(self, rec: PatientRecord) -> None:
        birth = rec.birth_date
        dx = rec.diagnosis_date
        if birth and dx and dx < birth:
            self.add(
                "diagnosis_date",
                "diagnosis date is before birth date",
                expected=f"on or after {birth.isoformat()}",
                got=dx.isoformat(),
            )
        if birth:
            for i, obs in enumerate(rec.observations):
                t = _as_date(obs.time)
                if t is not None and t < birth:
                    self.add(
                        f"observations[{i}].time",
                        "observation is dated before birth",
                        expected=f"on or after {birth.isoformat()}",
                        got=t.isoformat(),
                    )
            for section in ("immunophenotype", "genetics"):
                block = getattr(rec, section)
                t = _as_date(block.time) if block is not None else None
                if t is not None and t < birth:
                    self.add(f"{section}.time", "dated before birth", got=t.isoformat())
        for i, ev in enumerate(rec.treatment):
            if ev.end is not None and ev.end < ev.start:
                self.add(
                    f"treatment[{i}].end",
                    "phase ends before it starts",
                    expected=f"on or after {ev.start.isoformat()}",
                    got=ev.end.isoformat(),
                )
            if birth and ev.start < birth:
                self.add(f"treatment[{i}].start", "dated before birth", got=ev.start.isoformat())


def parse_record(
    data: Any,
    source: str | None = None,
    catalogue: Catalogue | None = None,
    vocabulary: Vocabulary | None = None,
) -> PatientRecord:
    """Check a record given as a mapping (parsed YAML/JSON) and return it canonicalised.

    Aliases (``hgb``, LOINC ``718-7``, marker ``cyCD3``) are rewritten to catalogue codes and
    vocabulary terms; values stay in the units written.
    """
    if not isinstance(data, Mapping):
        raise RecordError(
            [Problem("", "a record is a mapping of fields", got=type(data).__name__)], source
        )
    fmt = data.get("format")
    if fmt != RECORD_FORMAT:
        raise RecordError(
            [Problem("format", "unsupported or missing record format", expected=RECORD_FORMAT,
                     got=_shown(fmt))],
            source,
        )
    observations = data.get("observations")
    if isinstance(observations, list) and len(observations) > MAX_OBSERVATIONS:
        raise RecordError([Problem("observations", "too many observations in one record",
                                   expected=f"at most {MAX_OBSERVATIONS}",
                                   got=str(len(observations)))], source)
    checker = _Checker(catalogue or load_catalogue(), vocabulary or load_vocabulary())
    try:
        rec = PatientRecord.model_validate(dict(data))
    except ValidationError as err:
        # Shape errors first; then the rest of the record is still checked, so that one run
        # lists every mistake (a misspelt sex and an unknown analyte code both show).
        problems = validation_problems(err)
        rest = _without_shape_errors(data, err)
        if rest is not None:
            pruned, kept = rest
            checker.check(pruned)
            seen = {p.path for p in problems}
            for p in checker.problems:
                path = _original_path(p.path, kept)
                if path not in seen:
                    problems.append(dataclasses.replace(p, path=path))
        raise RecordError(_in_record_order(problems, data), source) from None
    checked = checker.check(rec)
    if checker.problems:
        raise RecordError(checker.problems, source)
    return checked


def _in_record_order(problems: list[Problem], data: Mapping[str, Any]) -> list[Problem]:
    """Problems in the order of the fields in the record, list entries by index."""
    fields = {str(k): i for i, k in enumerate(data)}

    def key(p: Problem) -> tuple[int, int]:
        m = re.match(r"^([A-Za-z_]+)(?:\[(\d+)\])?", p.path)
        if m is None:
            return (-1, 0)
        return (fields.get(m[1], len(fields)), int(m[2]) if m[2] else -1)

    return sorted(problems, key=key)


#: rounds of removing invalid parts before giving up on checking the rest of a record
_PRUNE_ROUNDS = 5


def _without_shape_errors(
    data: Mapping[str, Any], err: ValidationError
) -> tuple[PatientRecord, dict[str, list[int]]] | None:
    """The record with every part that failed the shape check removed, and for each list
    whose entries were removed the original index of every entry kept.

    An entry of a list (an observation, a symptom, a treatment phase) that has a wrong field
    is removed whole; a wrong field outside a list is removed (its default applies). The
    result is only checked for further problems, never returned to a caller.
    """
    doc: dict[str, Any] = copy.deepcopy(dict(data))
    kept: dict[str, list[int]] = {}
    for _ in range(_PRUNE_ROUNDS):
        targets = {_target(doc, e["loc"]) for e in err.errors()}
        # the deepest and highest-numbered first, so earlier targets keep their place
        for target in sorted((t for t in targets if t), key=_sort_key, reverse=True):
            _remove(doc, target, kept)
        if not isinstance(doc.get("id"), str) or not doc["id"]:
            doc["id"] = "record"
        doc["format"] = RECORD_FORMAT
        try:
            return PatientRecord.model_validate(doc), kept
        except ValidationError as again:
            err = again
    return None


def _target(doc: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Where to cut for an error at ``loc``: the shallowest list entry on it, else the
    deepest mapping key on it (type names of union members in ``loc`` are skipped)."""
    node: Any = doc
    walked: list[int | str] = []
    for part in loc:
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            return (*walked, part)
        if isinstance(node, dict) and part in node:
            walked.append(part)
            node = node[part]
            continue
        break
    return tuple(walked)


def _sort_key(target: tuple[int | str, ...]) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in target)


def _remove(doc: Any, target: tuple[int | str, ...], kept: dict[str, list[int]]) -> None:
    node: Any = doc
    path = ""
    for part in target[:-1]:
        node = node[part]
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    last = target[-1]
    if isinstance(node, list) and isinstance(last, int):
        original = kept.setdefault(path, list(range(len(node))))
        del original[last]
    del node[last]


_LIST_ENTRY = re.compile(r"^(?P<list>[A-Za-z_.]+)\[(?P<index>\d+)\]")


def _original_path(path: str, kept: Mapping[str, list[int]]) -> str:
    """A problem path in the pruned record, with list indices as in the record given."""
    m = _LIST_ENTRY.match(path)
    if m is None or m["list"] not in kept:
        return path
    index = int(m["index"])
    original = kept[m["list"]]
    if index >= len(original):
        return path
    return f"{m['list']}[{original[index]}]{path[m.end():]}"
