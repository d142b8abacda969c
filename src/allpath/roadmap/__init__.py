"""Treatment roadmaps: protocol templates as data, chosen by a cited rule pack, laid out on dates.

>>> from allpath.examples import example_records
>>> from allpath.pipeline import assess
>>> from allpath.roadmap import build_roadmap
>>> build_roadmap(assess(example_records()[0])).to_dict()["template"]["id"]
'cog-b-sr'
"""

from __future__ import annotations

from allpath.roadmap.bsa import FORMULAS, bsa
from allpath.roadmap.build import ROADMAP_FORMAT, Roadmap, build_roadmap
from allpath.roadmap.responses import Course, MarrowReading, course_of, marrow_readings
from allpath.roadmap.templates import Template, check_templates, load_templates

__all__ = [
    "FORMULAS",
    "ROADMAP_FORMAT",
    "Course",
    "MarrowReading",
    "Roadmap",
    "Template",
    "bsa",
    "build_roadmap",
    "check_templates",
    "course_of",
    "load_templates",
    "marrow_readings",
]
