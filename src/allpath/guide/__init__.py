"""The family guide (issue 4, part 2): cited plain-language topics, personalised to a record."""

from __future__ import annotations

from allpath.guide.core import (
    GUIDE_DISCLAIMER,
    Guide,
    Section,
    Topic,
    all_text,
    general_guide,
    load_guide,
    personal_guide,
    render,
    topic,
)

__all__ = [
    "GUIDE_DISCLAIMER",
    "Guide",
    "Section",
    "Topic",
    "all_text",
    "general_guide",
    "load_guide",
    "personal_guide",
    "render",
    "topic",
]
