"""The family guide after a relapse (review F): the relapse is said first, in plain words, the
front-line risk group is named as the one set at diagnosis, the phase in progress is not the
front-line one any more, and the first-treatment outlook figures are left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from allpath import parse_record
from allpath.guide import personal_guide, render
from allpath.guide.readability import score
from support import REPO, load_yaml

_F = REPO / "tests" / "clinical" / "review_f"
GRADE_LIMIT = 8.0


def _record(prefix: str) -> dict[str, Any]:
    path = next(p for p in sorted(_F.glob("rf*.yaml")) if p.stem.startswith(prefix))
    doc: dict[str, Any] = load_yaml(Path(path).read_text(encoding="utf-8"))["record"]
    return doc


def _intro(record: dict[str, Any]) -> list[str]:
    return list(personal_guide(parse_record(record)).intro)


def test_second_relapse_is_said_with_its_date_site_and_which_time() -> None:
    intro = _intro(_record("rf01"))
    said = " ".join(intro)
    assert intro[1].startswith("The leukemia has come back. This is called a relapse.")
    assert "6 November 2023, in the bone marrow" in said
    assert "the second time it has come back" in said
    assert "At diagnosis, the risk group was average risk." in said
    assert "Risk group: average risk." not in said
    assert "The record shows no treatment since the relapse yet." in said
    assert "first phase (induction) has ended" not in said


def test_isolated_cns_relapse_on_maintenance_is_not_told_as_maintenance_going_on() -> None:
    said = " ".join(_intro(_record("rf07")))
    assert "in the spinal fluid" in said
    assert "maintenance" not in said


def test_after_a_relapse_the_first_treatment_outlook_figures_are_left_out() -> None:
    guide = personal_guide(parse_record(_record("rf01")))
    assert "outlook" not in {t.id for t in guide.topics}
    text = render(guide)
    assert "92 out of 100" not in text
    assert "The numbers for first treatment do not apply." in text
    # treatment after a relapse: the transplant and immunotherapy topics are offered
    assert {"transplant", "targeted-and-immunotherapy"} <= {t.id for t in guide.topics}


def test_remission_after_the_relapse_is_said_when_no_new_relapse_followed() -> None:
    record = _record("rf01")
    record["observations"] = [o for o in record["observations"]
                              if str(o["time"]) < "2023-01-01"]
    said = " ".join(_intro(record))
    assert "14 September 2021" in said
    assert "under control again. A marrow test showed this on 14 October 2021" in said
    assert "second time" not in said


def test_suspected_relapse_asks_for_the_next_test_and_never_says_no_relapse() -> None:
    record = _record("rf01")
    obs = [o for o in record["observations"] if str(o["time"]) < "2023-11-06"]
    # 12% marrow blasts with no other test on that marrow: suspected (Ponte di Legno [S31])
    obs.append({"code": "marrow_blasts", "value": 12, "unit": "%", "time": "2023-11-06"})
    record["observations"] = obs
    said = " ".join(_intro(record))
    assert "Tests found it on 14 September 2021" in said  # the confirmed relapse stays
    assert "may show that the leukemia has come back again" in said
    assert "More tests are needed to be sure." in said


def test_relapse_lines_are_at_or_under_grade_8() -> None:
    for prefix in ("rf01", "rf07", "rf12"):
        intro = _intro(_record(prefix))
        relapse = [line for line in intro if "relapse" in line or "come back" in line]
        assert relapse
        for line in relapse:
            assert score(line).grade <= GRADE_LIMIT, (prefix, line, score(line).grade)
