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


def test_a_decimal_comma_in_a_log_is_never_read_as_ten_times_the_value(tmp_path: Path) -> None:
    """'1,5' is 1.5 in much of the world: dropping the comma would read an ANC of 1.5 as 15
    and could suggest a higher dose. Only 1,500-style thousands separators are read."""
    log = tmp_path / "log.csv"
    log.write_text("# counts in 10^9/L, hemoglobin in g/dL\n"
                   "date,wbc,anc,platelets,hemoglobin,mp,mtx\n"
                   '2025-03-03,3.1,"1,5",210,11.8,350,14\n'
                   '2025-03-17,3.8,2.1,"1,230",12.0,350,14\n', encoding="utf-8")
    try:
        visits = read_log(log).visits
    except RecordError as err:  # refused, naming the field: also safe
        assert "anc" in str(err).lower()
        return
    assert visits[0].anc != 15.0 and visits[0].anc is None
    assert visits[1].platelets == 1230.0  # a thousands separator still reads
