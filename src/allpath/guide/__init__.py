"""The family guide (issues 4 and 21): cited plain-language topics, personalised to a record."""

from __future__ import annotations

from allpath.guide.core import (
    GUIDE_DISCLAIMER,
    NO_PHONE,
    Guide,
    PhaseNow,
    Section,
    Topic,
    all_text,
    check_team_phone,
    general_guide,
    load_guide,
    personal_guide,
    phase_now,
    render,
    section_text,
    topic,
)

__all__ = [
    "GUIDE_DISCLAIMER",
    "NO_PHONE",
    "Guide",
    "PhaseNow",
    "Section",
    "Topic",
    "all_text",
    "check_team_phone",
    "general_guide",
    "load_guide",
    "personal_guide",
    "phase_now",
    "render",
    "section_text",
    "topic",
]
