"""A snapshot-driven FHIR profile checker (mCODE 4.0.0 conformance of the export).

The HL7 Java validator cannot be had here, so this module checks a resource against the
*snapshot* of a profile's StructureDefinition, element by element:

- cardinality (``min``/``max``) of every element the snapshot lists, at every depth the
  snapshot expands, and of slices: extension slices by ``url``, slices by a ``value`` or
  ``pattern`` discriminator (``$this``, ``code``, ``coding``, ...), choice-type slices
  (``value[x]:valueCodeableConcept``), ``type`` and ``exists`` discriminators; a closed
  slicing refuses an element that matches no slice;
- ``fixed[x]`` (exact) and ``pattern[x]`` (the pattern is a subset of the value) values;
- ``required`` bindings: the code must be in the value set, expanded offline from the
  packages (an ``expansion``, or a ``compose`` of concept lists and whole CodeSystems
  present with ``content: complete``); a value set that cannot be expanded offline (SNOMED
  CT, LOINC answer lists, US Core value sets, filters) is reported as *not checked*, never
  as a pass;
- reference targets: the referenced resource's type (from the Bundle, a contained resource
  or the literal ``Type/id``) must be one the ``targetProfile`` list allows;
- choice types: a ``value[x]`` key must name one of the allowed types;
- elements the snapshot does not define, where it lists the children of an element;
- extensions whose definition is in the packages are checked against it in turn.

Not checked: FHIRPath invariants (``constraint``), bindings weaker than ``required``,
whether a referenced resource conforms to the target profile (only its type is checked),
and the primitive formats (the ``fhir.resources`` models check those on export).

Every finding names the path in the resource (``Observation.component[1].value``), the
element id in the profile and what was expected. ``checked=False`` marks what could not be
decided offline.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

__all__ = [
    "Finding",
    "PackageSet",
    "ResourceCheck",
    "bundle_index",
    "check_bundle",
    "check_resource",
    "default_package_dir",
]

_REPO = Path(__file__).resolve().parents[4]
_CORE_SD = "http://hl7.org/fhir/StructureDefinition/"


def default_package_dir() -> Path:
    """Where ``scripts/fetch_fhir_packages.py`` unpacks the packages (``$ALLPATH_FHIR_PACKAGES``
    or ``.cache/fhir-packages`` in the repository)."""
    env = os.environ.get("ALLPATH_FHIR_PACKAGES")
    return Path(env) if env else _REPO / ".cache" / "fhir-packages"


@dataclass(frozen=True)
class Finding:
    """One departure from a profile (``checked=True``) or one check that could not be made."""

    path: str
    element: str
    # cardinality | fixed | pattern | binding | reference | type | unknown-element | slice
    kind: str
    message: str
    checked: bool = True

    def __str__(self) -> str:
        tag = "" if self.checked else "not checked: "
        return f"{self.path} [{self.element}] {tag}{self.kind}: {self.message}"


def _canon(url: str) -> str:
    return url.split("|", 1)[0]


class PackageSet:
    """StructureDefinitions, ValueSets and CodeSystems of unpacked FHIR packages.

    ``root`` holds one folder per package (``<name>#<version>/package/``), as the fetch
    script lays them out. FHIR.js's ``profiles/valuesets.json`` (R4 core value sets as code
    lists) is read as expansions.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_package_dir()
        self._index: dict[tuple[str, str], Path] = {}
        self._cache: dict[Path, dict[str, Any]] = {}
        self._fhirjs: dict[str, Any] = {}
        self._expansions: dict[str, frozenset[tuple[str, str]] | None] = {}
        self.packages: list[str] = []
        if not self.root.is_dir():
            raise FileNotFoundError(
                f"FHIR packages not found in {self.root}: run scripts/fetch_fhir_packages.py")
        for pkg in sorted(p for p in self.root.iterdir() if (p / "package").is_dir()):
            self.packages.append(pkg.name)
            self._index_package(pkg / "package")
        if not self.packages:
            raise FileNotFoundError(
                f"no FHIR package in {self.root}: run scripts/fetch_fhir_packages.py")

    def _index_package(self, folder: Path) -> None:
        valuesets = folder / "profiles" / "valuesets.json"
        if valuesets.is_file() and not (folder / "StructureDefinition").exists():
            self._fhirjs.update(json.loads(valuesets.read_text(encoding="utf-8")))
        index_file = folder.parent / ".allpath-index.json"
        entries: list[list[str]]
        if index_file.is_file():
            entries = json.loads(index_file.read_text(encoding="utf-8"))
        else:
            entries = []
            for f in sorted(folder.glob("*.json")):
                if not f.name.startswith(("StructureDefinition-", "ValueSet-", "CodeSystem-")):
                    continue
                doc = json.loads(f.read_text(encoding="utf-8"))
                if doc.get("url"):
                    entries.append([str(doc["resourceType"]), str(doc["url"]), f.name])
            # a read-only cache is still usable: the index is then built each time
            with contextlib.suppress(OSError):
                index_file.write_text(json.dumps(entries), encoding="utf-8")
        for rtype, url, name in entries:
            self._index.setdefault((rtype, url), folder / name)

    def _get(self, rtype: str, url: str) -> dict[str, Any] | None:
        path = self._index.get((rtype, _canon(url)))
        if path is None:
            return None
        if path not in self._cache:
            self._cache[path] = json.loads(path.read_text(encoding="utf-8"))
        return self._cache[path]

    def structure_definition(self, url: str) -> dict[str, Any] | None:
        return self._get("StructureDefinition", url)

    def value_set(self, url: str) -> dict[str, Any] | None:
        return self._get("ValueSet", url)

    def code_system(self, url: str) -> dict[str, Any] | None:
        return self._get("CodeSystem", url)

    @cached_property
    def _derived_types(self) -> dict[str, str]:
        """Profile URL -> resource type, also for base profiles known only as a base."""
        out: dict[str, str] = {}
        for (rtype, url), _ in self._index.items():
            if rtype != "StructureDefinition":
                continue
            sd = self.structure_definition(url)
            if sd is None:
                continue
            out[url] = str(sd["type"])
            base = sd.get("baseDefinition")
            if base:
                out.setdefault(_canon(str(base)), str(sd["type"]))
        return out

    def profile_type(self, url: str) -> str | None:
        """The resource type a profile constrains, or None when the packages cannot say.

        A profile missing from the packages (US Core) is known when another profile is
        derived from it (CancerPatient's base is ``us-core-patient``, so that is a Patient).
        """
        url = _canon(url)
        if url.startswith(_CORE_SD):
            return url[len(_CORE_SD):]
        return self._derived_types.get(url)

    def expand(self, url: str) -> frozenset[tuple[str, str]] | None:
        """The (system, code) pairs of a value set, or None when it cannot be expanded offline."""
        url = _canon(url)
        if url not in self._expansions:
            self._expansions[url] = None  # guards against a cycle
            self._expansions[url] = self._expand(url)
        return self._expansions[url]

    def _expand(self, url: str) -> frozenset[tuple[str, str]] | None:
        vs = self.value_set(url)
        if vs is None:
            compact = self._fhirjs.get(url)
            if compact is None:
                return None
            return frozenset((str(s["uri"]), str(c["code"]))
                             for s in compact.get("systems", []) for c in s.get("codes", []))
        contains = (vs.get("expansion") or {}).get("contains")
        if contains:
            return frozenset(_flatten_contains(contains))
        compose = vs.get("compose")
        if not compose:
            return None
        codes: set[tuple[str, str]] = set()
        for inc in compose.get("include", []):
            part = self._include(inc)
            if part is None:
                return None
            codes |= part
        for exc in compose.get("exclude", []):
            part = self._include(exc)
            if part is None:
                return None
            codes -= part
        return frozenset(codes)

    def _include(self, inc: Mapping[str, Any]) -> set[tuple[str, str]] | None:
        if inc.get("filter"):
            return None
        system = inc.get("system")
        sets: list[set[tuple[str, str]]] = []
        if system and inc.get("concept"):
            sets.append({(str(system), str(c["code"])) for c in inc["concept"]})
        elif system:
            cs = self.code_system(str(system))
            if cs is None or cs.get("content") != "complete":
                return None
            sets.append({(str(system), code) for code in _cs_codes(cs.get("concept", []))})
        for vs_url in inc.get("valueSet", []):
            part = self.expand(str(vs_url))
            if part is None:
                return None
            sets.append(set(part))
        if not sets:
            return None
        out = sets[0]
        for s in sets[1:]:
            out &= s
        return out

    def examples(self, package: str = "hl7.fhir.us.mcode") -> list[Path]:
        """The official example files of a package (its ``package/example`` folder)."""
        out: list[Path] = []
        for name in self.packages:
            if name.split("#", 1)[0] == package:
                out += sorted((self.root / name / "package" / "example").glob("*.json"))
        return out


def _flatten_contains(items: Iterable[Mapping[str, Any]]) -> Iterator[tuple[str, str]]:
    for it in items:
        if it.get("code") and not it.get("abstract"):
            yield str(it.get("system", "")), str(it["code"])
        yield from _flatten_contains(it.get("contains", []))


def _cs_codes(concepts: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for c in concepts:
        yield str(c["code"])
        yield from _cs_codes(c.get("concept", []))


# --- the checker -------------------------------------------------------------------------

def _matches_pattern(value: Any, pattern: Any) -> bool:
    """FHIR pattern semantics: every part of the pattern is in the value; a list in the
    pattern needs each of its items to match some item of the value."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(k in value and _matches_pattern(value[k], v) for k, v in pattern.items())
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(_matches_pattern(i, p) for i in items) for p in pattern)
    return bool(value == pattern)


def _prefixed(element: Mapping[str, Any], prefix: str) -> Any:
    for k, v in element.items():
        if k.startswith(prefix):
            return v
    return None


def _type_of_key(key: str, base: str) -> str:
    return key[len(base):]


@dataclass
class _Ctx:
    packages: PackageSet
    resource: Mapping[str, Any]
    bundle: Mapping[str, Mapping[str, Any]]
    findings: list[Finding]


class _Profile:
    """The snapshot elements of one StructureDefinition, as a tree by element id."""

    def __init__(self, sd: Mapping[str, Any]) -> None:
        self.sd = sd
        self.elements: dict[str, dict[str, Any]] = {}
        self.children: dict[str, list[str]] = {}
        self.slices: dict[str, list[str]] = {}
        for el in sd["snapshot"]["element"]:
            eid = str(el["id"])
            self.elements[eid] = el
            if "." not in eid:
                self.root = eid
                continue
            parent, last = eid.rsplit(".", 1)
            if ":" in last:
                base = f"{parent}.{last.split(':', 1)[0]}"
                self.slices.setdefault(base, []).append(eid)
            else:
                self.children.setdefault(parent, []).append(eid)

    def kids(self, eid: str) -> list[str]:
        """Children of an element; a slice that lists none has those of its base element."""
        if eid in self.children:
            return self.children[eid]
        parent, _, last = eid.rpartition(".")
        if ":" in last:
            base = f"{parent}.{last.split(':', 1)[0]}" if parent else last.split(":", 1)[0]
            return self.children.get(base, [])
        return []


def _values(obj: Mapping[str, Any], name: str,
            el: Mapping[str, Any]) -> list[tuple[str, Any, str | None]]:
    """(key, value, type code) for each occurrence of an element in a JSON object."""
    out: list[tuple[str, Any, str | None]] = []
    types = [str(t["code"]) for t in el.get("type", [])]
    if name.endswith("[x]"):
        base = name[:-3]
        for key, val in obj.items():
            if not key.startswith(base) or len(key) == len(base) or not key[len(base)].isupper():
                continue
            suffix = _type_of_key(key, base)
            choice = next((t for t in types if t.lower() == suffix.lower()), suffix)
            for v in val if isinstance(val, list) else [val]:
                out.append((key, v, choice))
        return out
    tcode = types[0] if types else None
    if name in obj:
        val = obj[name]
        for v in val if isinstance(val, list) else [val]:
            out.append((name, v, tcode))
    elif f"_{name}" in obj:  # a primitive present only through its extensions
        ext = obj[f"_{name}"]
        for _ in ext if isinstance(ext, list) else [ext]:
            out.append((name, None, tcode))
    return out


def _card_findings(path: str, eid: str, el: Mapping[str, Any], n: int) -> list[Finding]:
    out = []
    lo = int(el.get("min", 0))
    hi = str(el.get("max", "*"))
    if n < lo:
        out.append(Finding(path, eid, "cardinality",
                           f"at least {lo} expected ({lo}..{hi}), {n} found"))
    if hi != "*" and n > int(hi):
        out.append(Finding(path, eid, "cardinality",
                           f"at most {hi} allowed ({lo}..{hi}), {n} found"))
    return out


def _codings(value: Any, tcode: str | None) -> list[tuple[str | None, str]] | None:
    """(system, code) pairs carried by a coded value; None for a type that carries no code."""
    if tcode in ("code", "string", "uri") and isinstance(value, str):
        return [(None, value)]
    if tcode == "Coding" and isinstance(value, dict):
        return [(value.get("system"), str(value.get("code")))] if value.get("code") else []
    if tcode == "CodeableConcept" and isinstance(value, dict):
        return [(c.get("system"), str(c.get("code"))) for c in value.get("coding", [])
                if isinstance(c, dict) and c.get("code")]
    if tcode == "Quantity" and isinstance(value, dict) and value.get("code"):
        return [(value.get("system"), str(value["code"]))]
    return None


def _check_binding(ctx: _Ctx, path: str, eid: str, el: Mapping[str, Any], value: Any,
                   tcode: str | None) -> None:
    binding = el.get("binding") or {}
    if binding.get("strength") != "required" or not binding.get("valueSet") or value is None:
        return
    vs_url = str(binding["valueSet"])
    pairs = _codings(value, tcode)
    if pairs is None:
        return
    expansion = ctx.packages.expand(vs_url)
    if expansion is None:
        ctx.findings.append(Finding(path, eid, "binding",
                                    f"value set {vs_url} cannot be expanded offline",
                                    checked=False))
        return
    codes_only = {c for _, c in expansion}
    ok = any((c in codes_only) if s is None else ((s, c) in expansion) for s, c in pairs)
    if not ok:
        shown = ", ".join(f"{s}|{c}" if s else c for s, c in pairs) or "no code"
        ctx.findings.append(Finding(path, eid, "binding",
                                    f"{shown} is not in the required value set {vs_url}"))


def _resolve_type(ctx: _Ctx, ref: str) -> str | None:
    if ref.startswith("#"):
        for c in ctx.resource.get("contained", []):
            if isinstance(c, dict) and f"#{c.get('id')}" == ref:
                return str(c.get("resourceType"))
        return None
    target = ctx.bundle.get(ref)
    if target is not None:
        return str(target.get("resourceType"))
    m = re.search(r"(?:^|/)([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[^/]+)?$", ref)
    return m.group(1) if m else None


def _check_reference(ctx: _Ctx, path: str, eid: str, el: Mapping[str, Any],
                     value: Any) -> None:
    if not isinstance(value, dict) or not isinstance(value.get("reference"), str):
        return
    targets = [str(p) for t in el.get("type", []) if t.get("code") == "Reference"
               for p in t.get("targetProfile", [])]
    if not targets:
        return
    allowed = {ctx.packages.profile_type(t) for t in targets}
    if "Resource" in allowed:
        return
    actual = _resolve_type(ctx, value["reference"])
    if actual is None:
        ctx.findings.append(Finding(path, eid, "reference",
                                    f"cannot tell the type of {value['reference']!r}",
                                    checked=False))
        return
    if actual in allowed:
        return
    if None in allowed:
        ctx.findings.append(Finding(path, eid, "reference",
                                    f"{actual} may not be allowed: some target profiles are not "
                                    "in the packages", checked=False))
        return
    ctx.findings.append(Finding(
        path, eid, "reference",
        f"{actual} is not an allowed target ({', '.join(sorted(str(a) for a in allowed))})"))


def _check_value(ctx: _Ctx, prof: _Profile, eid: str, path: str, value: Any,
                 tcode: str | None, *, recurse: bool = True) -> None:
    """Fixed, pattern, binding and reference of one element on one value, then (``recurse``)
    its children."""
    el = prof.elements[eid]
    fixed = _prefixed(el, "fixed")
    if fixed is not None and value is not None and value != fixed:
        ctx.findings.append(Finding(path, eid, "fixed",
                                    f"expected exactly {json.dumps(fixed)}, "
                                    f"found {json.dumps(value)}"))
    pattern = _prefixed(el, "pattern")
    if pattern is not None and value is not None and not _matches_pattern(value, pattern):
        ctx.findings.append(Finding(path, eid, "pattern",
                                    f"expected to contain {json.dumps(pattern)}, "
                                    f"found {json.dumps(value)}"))
    _check_binding(ctx, path, eid, el, value, tcode)
    if tcode == "Reference":
        _check_reference(ctx, path, eid, el, value)
    if tcode == "Extension" and isinstance(value, dict):
        _check_extension(ctx, el, path, value)
    if recurse and isinstance(value, dict) and prof.kids(eid):
        _check_object(ctx, prof, eid, path, value)


def _check_extension(ctx: _Ctx, el: Mapping[str, Any], path: str,
                     value: Mapping[str, Any]) -> None:
    profiles = [str(p) for t in el.get("type", []) for p in t.get("profile", [])]
    for url in profiles:
        sd = ctx.packages.structure_definition(url)
        if sd is None:
            ctx.findings.append(Finding(path, str(el["id"]), "profile",
                                        f"extension definition {url} is not in the packages",
                                        checked=False))
            continue
        ext = _Profile(sd)
        _check_object(ctx, ext, ext.root, path, value)


def _slice_expected(prof: _Profile, sid: str, disc_path: str) -> Any:
    """The fixed or pattern value a slice sets at a discriminator path (None if none)."""
    if disc_path == "$this":
        return _prefixed(prof.elements[sid], "fixed") or _prefixed(prof.elements[sid],
                                                                    "pattern")
    el = prof.elements.get(f"{sid}.{disc_path}")
    if el is not None:
        return _prefixed(el, "fixed") or _prefixed(el, "pattern")
    own = _prefixed(prof.elements[sid], "pattern") or _prefixed(prof.elements[sid], "fixed")
    node = own
    for part in disc_path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _at(value: Any, disc_path: str) -> list[Any]:
    nodes = [value]
    if disc_path == "$this":
        return nodes
    for part in disc_path.split("."):
        nxt: list[Any] = []
        for n in nodes:
            if isinstance(n, dict) and part in n:
                v = n[part]
                nxt += v if isinstance(v, list) else [v]
        nodes = nxt
    return nodes


def _slice_match(ctx: _Ctx, prof: _Profile, base_eid: str, sid: str, key: str,
                 value: Any) -> bool | None:
    """Whether a value belongs to a slice: True, False, or None when it cannot be decided."""
    base = prof.elements[base_eid]
    sl = prof.elements[sid]
    if str(base["path"]).endswith("[x]"):
        return key == sl.get("sliceName") or key.lower().endswith(
            tuple(str(t["code"]).lower() for t in sl.get("type", [])))
    verdict: bool | None = True
    for disc in base["slicing"].get("discriminator", []):
        dtype, dpath = str(disc["type"]), str(disc["path"])
        if dtype in ("value", "pattern"):
            if dpath == "url" and str(sl["type"][0]["code"]) == "Extension":
                url_el = prof.elements.get(f"{sid}.url")
                expected = _prefixed(url_el, "fixed") if url_el else None
                if expected is None:
                    profs = sl["type"][0].get("profile", [])
                    expected = profs[0] if profs else None
                ok = isinstance(value, dict) and value.get("url") == expected
            else:
                expected = _slice_expected(prof, sid, dpath)
                if expected is None:
                    el = sl if dpath == "$this" else prof.elements.get(f"{sid}.{dpath}", {})
                    vs = (el.get("binding") or {}).get("valueSet")
                    if vs and (el.get("binding") or {}).get("strength") == "required":
                        expansion = ctx.packages.expand(str(vs))
                        if expansion is None:
                            verdict = None
                            continue
                        nodes = _at(value, dpath)
                        ok = any(_codings(n, "CodeableConcept") and any(
                            (s, c) in expansion for s, c in _codings(n, "CodeableConcept") or [])
                            for n in nodes)
                    else:
                        verdict = None
                        continue
                else:
                    ok = any(_matches_pattern(n, expected) for n in _at(value, dpath))
        elif dtype == "exists":
            want = bool((prof.elements.get(f"{sid}.{dpath}") or {}).get("min", 0))
            ok = bool(_at(value, dpath)) == want
        elif dtype == "type":
            codes = {str(t["code"]) for t in sl.get("type", [])}
            nodes = _at(value, dpath)
            ok = any(isinstance(n, dict) and n.get("resourceType") in codes for n in nodes)
        else:  # profile discriminators need a full conformance check of the target
            verdict = None
            continue
        if not ok:
            return False
    return verdict


def _check_sliced(ctx: _Ctx, prof: _Profile, eid: str, loc: str,
                  occurrences: list[tuple[str, Any, str | None, str]]) -> None:
    el = prof.elements[eid]
    slices = prof.slices.get(eid, [])
    counts = dict.fromkeys(slices, 0)
    undecided = 0
    for key, value, tcode, path in occurrences:
        chosen = None
        unsure = False
        for sid in slices:
            m = _slice_match(ctx, prof, eid, sid, key, value)
            if m is None:
                unsure = True
            elif m:
                chosen = sid
                break
        if chosen is not None:
            counts[chosen] += 1
            _check_value(ctx, prof, chosen, path, value, tcode)
            continue
        if unsure:
            undecided += 1
        elif el["slicing"].get("rules") == "closed":
            ctx.findings.append(Finding(path, eid, "slice",
                                        "matches no slice of a closed slicing"))
        if isinstance(value, dict) and prof.kids(eid):
            _check_object(ctx, prof, eid, path, value)
    for sid in slices:
        for f in _card_findings(f"{loc}:{prof.elements[sid].get('sliceName')}", sid,
                                prof.elements[sid], counts[sid]):
            if undecided and "at least" in f.message:
                ctx.findings.append(Finding(f.path, sid, "cardinality",
                                            f"slice membership undecidable offline; {f.message}",
                                            checked=False))
            else:
                ctx.findings.append(f)


def _check_object(ctx: _Ctx, prof: _Profile, eid: str, path: str,
                  obj: Mapping[str, Any]) -> None:
    kids = prof.kids(eid)
    known: set[str] = set()
    for kid in kids:
        el = prof.elements[kid]
        name = kid.rsplit(".", 1)[1].split(":", 1)[0]
        if el.get("max") == "0" and not _values(obj, name, el):
            continue
        occ = _values(obj, name, el)
        known |= {k for k, _, _ in occ}
        if name.endswith("[x]"):
            known |= {k for k in obj if k.startswith(name[:-3])}
        else:
            known.add(name)
        loc = f"{path}.{name}"
        for f in _card_findings(loc, kid, el, len(occ)):
            ctx.findings.append(f)
        allowed = {str(t["code"]) for t in el.get("type", [])}
        located: list[tuple[str, Any, str | None, str]] = []
        many = str(el.get("max", "1")) not in ("0", "1")
        for i, (key, value, tcode) in enumerate(occ):
            vpath = f"{path}.{key}[{i}]" if many else f"{path}.{key}"
            if name.endswith("[x]") and allowed and tcode not in allowed:
                ctx.findings.append(Finding(vpath, kid, "type",
                                            f"{key}: type {tcode} is not one of "
                                            f"{', '.join(sorted(allowed))}"))
                continue
            located.append((key, value, tcode, vpath))
            if el.get("contentReference"):
                continue
            sliced = bool(el.get("slicing") and prof.slices.get(kid))
            _check_value(ctx, prof, kid, vpath, value, tcode, recurse=not sliced)
        if el.get("slicing") and prof.slices.get(kid):
            _check_sliced(ctx, prof, kid, loc, located)
    if kids:
        for key in obj:
            bare = key[1:] if key.startswith("_") else key
            if key == "resourceType" or bare in known or key in known:
                continue
            ctx.findings.append(Finding(f"{path}.{key}", eid, "unknown-element",
                                        f"{key} is not an element of {eid}"))


def check_resource(resource: Mapping[str, Any], profile: str, packages: PackageSet, *,
                   bundle: Mapping[str, Mapping[str, Any]] | None = None) -> list[Finding]:
    """Findings of one resource against one profile (a StructureDefinition URL).

    ``bundle`` maps the references used in the resource (``urn:uuid:...`` full URLs,
    ``Type/id``) to the resources they point at, for the reference-target check.
    """
    sd = packages.structure_definition(profile)
    rtype = str(resource.get("resourceType"))
    if sd is None:
        return [Finding(rtype, rtype, "profile", f"profile {profile} is not in the packages",
                        checked=False)]
    if not sd.get("snapshot"):
        return [Finding(rtype, rtype, "profile", f"profile {profile} has no snapshot",
                        checked=False)]
    if sd.get("type") != rtype:
        return [Finding(rtype, rtype, "type", f"profile {profile} is for {sd.get('type')}, "
                                               f"the resource is a {rtype}")]
    prof = _Profile(sd)
    ctx = _Ctx(packages, resource, bundle or {}, [])
    _check_object(ctx, prof, prof.root, rtype, resource)
    return ctx.findings


@dataclass(frozen=True)
class ResourceCheck:
    """The findings of one Bundle entry against one of the profiles it declares."""

    full_url: str
    resource_type: str
    profile: str
    findings: tuple[Finding, ...]

    @property
    def violations(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.checked)

    @property
    def not_checked(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.checked)


def bundle_index(bundle: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each entry's resource under its fullUrl and its ``Type/id``."""
    out: dict[str, Mapping[str, Any]] = {}
    for e in bundle.get("entry", []):
        res = e.get("resource")
        if not isinstance(res, dict):
            continue
        if e.get("fullUrl"):
            out[str(e["fullUrl"])] = res
        if res.get("id"):
            out[f"{res.get('resourceType')}/{res['id']}"] = res
    return out


def check_bundle(bundle: Mapping[str, Any], packages: PackageSet) -> list[ResourceCheck]:
    """Every entry with a ``meta.profile`` checked against each profile it declares."""
    index = bundle_index(bundle)
    out = []
    for e in bundle.get("entry", []):
        res = e.get("resource")
        if not isinstance(res, dict):
            continue
        for profile in (res.get("meta") or {}).get("profile", []):
            findings = check_resource(res, str(profile), packages, bundle=index)
            out.append(ResourceCheck(str(e.get("fullUrl", "")), str(res.get("resourceType")),
                                     str(profile), tuple(findings)))
    return out
