"""The simulator's access to the pathway packs: compiled packs for column-wise evaluation.

The packs decide column-wise in a cohort (response and relapse checkpoints, risk
re-stratification, maintenance titration, roadmap templates) through
:func:`allpath.rules.vectorised.evaluate_pack_columns`, which adds named output fields and
provisional answers to the rules layer's vectorised evaluator; this module loads the compiled
packs (bundled, or from a folder of pack files) and re-exports the column-wise API under the
names the simulator has always used.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from allpath.rules.engine import CompiledPack
from allpath.rules.vectorised import (
    ColumnDecision,
    evaluate_decision_columns,
    evaluate_pack_columns,
    fields_by_value,
    term_column,
)

__all__ = [
    "ColumnDecision",
    "evaluate_decision_columns",
    "evaluate_pack_columns",
    "fields_by_value",
    "load_pack",
    "term_column",
]


@lru_cache(maxsize=8)
def load_pack(pack_id: str, folder: str | None = None) -> CompiledPack:
    """A compiled pack: the bundled one, or from a folder of pack YAML files (cached).

    A folder (e.g. a temporary copy with a changed threshold) is validated like the bundled
    packs; any problem raises :class:`allpath.errors.KnowledgeError`.
    """
    from allpath.rules.loader import load_knowledge, load_packs

    if folder is None:
        return load_knowledge().pack(pack_id)
    from allpath.errors import KnowledgeError

    knowledge, problems = load_packs(Path(folder), run_examples=False)
    if problems:
        raise KnowledgeError(problems, f"packs in {folder}")
    return knowledge.pack(pack_id)
