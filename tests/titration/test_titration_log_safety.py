"""A maintenance log is read like a record: bounded, and no YAML anchors or aliases (issue 14)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from allpath.errors import RecordError
from allpath.monitoring.titration_log import read_log


def test_a_yaml_alias_bomb_in_a_maintenance_log_is_refused_at_once(tmp_path: Path) -> None:
    bomb = tmp_path / "log.yaml"
    lines = ["format: allpath.maintenance-log/1", 'l0: &l0 ["x","x","x","x","x","x","x","x"]']
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 8) + "]" for i in range(1, 9)]
    lines.append("visits: [*l8]")
    bomb.write_text("\n".join(lines), encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(RecordError) as err:
        read_log(bomb)
    assert time.perf_counter() - start < 5  # refused before anything expands
    assert "anchors and aliases" in str(err.value)
