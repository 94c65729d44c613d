"""Every example scheme runs end to end on its data, and its worked examples come out as by hand."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calib

DATASETS = Path(__file__).resolve().parent.parent / "datasets"
SCHEMES = sorted(p.parent.name for p in DATASETS.glob("*/policy.yaml"))


@cache
def example(name: str) -> tuple[calib.Policy, calib.Dataset, calib.Result]:
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    data = calib.load_data(DATASETS / name, policy)
    return policy, data, calib.run(policy, data)


def score(name: str, person: str, period: str) -> float:
    scores = example(name)[2].scores
    row = scores[(scores["id"] == person) & (scores["period"] == period)]
    assert len(row) == 1, f"{name}: no single row for {person} {period}"
    assert row["status"].item() == "rated", row["reason"].item()
    return float(row["score"].item())


def test_all_eight_schemes_ship() -> None:
    """The eight schemes of SCHEMES.md part B are in datasets/."""
    assert SCHEMES == sorted(["logistics_cs", "gas_cs", "ecommerce_cs", "property_cs",
                              "support_team", "call_centre", "ethics_diligence", "safety"])


@pytest.mark.parametrize("name", SCHEMES)
class TestEveryScheme:
    def test_round_trip(self, name: str) -> None:
        """load(dump(p)) == p, in YAML, JSON and the full dict form."""
        policy = example(name)[0]
        assert calib.parse_policy(calib.dump_policy(policy)) == policy
        assert calib.parse_policy(calib.dump_policy(policy, "json"), fmt="json") == policy
        assert calib.Policy.model_validate(policy.to_dict()) == policy

    def test_every_record_row_accounted_for(self, name: str) -> None:
        """Each records row is in the scores once: rated with a score, or not rated with a reason."""
        _, data, result = example(name)
        scores = result.scores
        assert len(scores) == len(data.tables["records"])
        rated = scores["status"] == "rated"
        assert scores.loc[rated, "score"].notna().all()
        assert scores.loc[~rated, "reason"].notna().all()
        assert scores.loc[~rated, "score"].isna().all()
        assert rated.mean() > 0.8

    def test_history_is_24_months(self, name: str) -> None:
        """The data covers 24 periods for 150–400 people in 5–15 groups."""
        policy, data, result = example(name)
        assert result.scores["period"].nunique() == 24
        assert 150 <= data.tables["people"][policy.inputs.id].nunique() <= 400

    def test_stage_tables_align(self, name: str) -> None:
        """Measures, KPI points and sections have one row per records row, same ids and periods."""
        _, _, result = example(name)
        keys = result.scores[["id", "period"]]
        for table in (result.measures, result.kpi_points, result.sections):
            pd.testing.assert_frame_equal(table[["id", "period"]], keys)

    def test_rollups_cover_everyone(self, name: str) -> None:
        """Each roll-up has a row for every person in every roll-up period they have records in."""
        _, _, result = example(name)
        for table in result.rollups.values():
            assert not table.duplicated(["id", "period"]).any()
            assert set(table["id"]) == set(result.scores["id"])
            rated = table["status"] == "rated"
            assert table.loc[rated, "score"].notna().all()

    def test_params_paths_resolve(self, name: str) -> None:
        """Every tunable path reads back its value, and setting it to itself changes nothing."""
        policy = example(name)[0]
        params = policy.params()
        assert params
        for p in params[:40]:
            assert policy.get(p.path) == p.value
        first = params[0]
        assert policy.with_params({first.path: first.value}) == policy


class TestWorkedExamples:
    """SCHEMES.md part B, on the people planted in the example data (see the data cards)."""

    def test_logistics_complaint_rate_started_steps(self) -> None:
        """B1: complaint rate 3.1% with a 2% limit: 1.1 pp over = 3 started 0.5 pp steps → −6."""
        assert score("logistics_cs", "LG0007", "2024-06") == 94.0

    def test_logistics_exactly_one_step(self) -> None:
        """2.5% is exactly one 0.5 pp step over 2% (not 1.0000000000000002 steps) → −2."""
        assert score("logistics_cs", "LG0012", "2024-06") == 98.0

    def test_logistics_on_the_limit(self) -> None:
        """Exactly 2% is within the limit: no deduction."""
        assert score("logistics_cs", "LG0019", "2025-03") == 100.0

    def test_gas_supervisor_two_raters(self) -> None:
        """B2: a supervisor rated 93 by the branch and 98 by HQ scores (93 + 98) / 2 = 95.5."""
        assert score("gas_cs", "GS0001", "2025-06") == 95.5
        assert score("gas_cs", "GS0012", "2025-06") == 91.5

    def test_ecommerce_weighted_part(self) -> None:
        """B3: 0.35·80 + 0.20·100 + 0.10·60 + 0.05·80 + 0.05·80 = 62."""
        sections = example("ecommerce_cs")[2].sections
        row = sections[(sections["id"] == "EC0009") & (sections["period"] == "2024-05")]
        weighted = [c for c in sections.columns if c not in ("id", "period")]
        assert 62.0 in row[weighted].to_numpy().ravel().tolist()
        assert score("ecommerce_cs", "EC0009", "2024-05") == 83.0

    def test_property_base_100(self) -> None:
        """B4: 100 − 10 − 5 − 5 = 80."""
        assert score("property_cs", "PC0005", "2024-09") == 80.0

    def test_property_approval_flags(self) -> None:
        """+8 (> +5) and −20 (< −10) each need written approval."""
        adj = example("property_cs")[2].adjustments
        mine = adj[(adj["employee_id"] == "PC0006")]
        flagged = mine.loc[mine["needs_approval"], "points"].tolist()
        assert 8 in flagged and -20 in flagged

    def test_property_group_average_capped(self) -> None:
        """收费组 2025-02: everyone +8 pushes the average above 102, so additions are scaled."""
        caps = example("property_cs")[2].group_caps
        row = caps[(caps["group"] == "收费组") & (caps["period"] == "2025-02")]
        assert len(row) == 1
        assert row["mean_after"].item() <= 102.0 + 1e-9
        assert 0.0 <= row["scale"].item() < 1.0

    def test_support_qc_multiplier(self) -> None:
        """B5: QC 65% → 1 − (0.70 − 0.65) × 5 = 0.75; QC 84% → 1 + (0.84 − 0.80) × 5 = 1.20."""
        points = example("support_team")[2].kpi_points
        mine = points[points["id"] == "ST0003"].set_index("period")
        qc = [c for c in mine.columns if c != "id" and "qc" in c.lower()]
        assert qc, "support_team has a QC multiplier KPI"
        assert mine.loc["2024-04", qc[0]] == 0.75
        assert mine.loc["2024-05", qc[0]] == 1.2

    def test_support_score_is_qc_adjusted_workload(self) -> None:
        """The member score is workload × QC multiplier: 804 × 0.75 = 603; 804 × 1.2 = 964.8."""
        assert score("support_team", "ST0003", "2024-04") == 603.0
        assert score("support_team", "ST0003", "2024-05") == pytest.approx(964.8, abs=1e-9)

    def test_call_centre_team_lead(self) -> None:
        """R19: lead = mean(99.2, 88, 99, 91) × 1.2 = 94.3 × 1.2 = 113.16."""
        assert score("call_centre", "CC0001", "2025-02") == pytest.approx(113.16, abs=1e-9)

    def test_ethics_annual_20_30_50(self) -> None:
        """R20: ED0004's 2024: 20% weekly checks + 30% monthly (80) + 50% year end = 89.5."""
        annual = example("ethics_diligence")[2].rollups["year"]
        row = annual[(annual["id"] == "ED0004") & (annual["period"] == "2024")]
        assert row["score"].item() == pytest.approx(89.5, abs=1e-9)

    def test_ethics_commendation_after_scoring(self) -> None:
        """R17: 80 + 5 commendation points = 85."""
        assert score("ethics_diligence", "ED0004", "2025-03") == 85.0

    def test_safety_vetoes(self) -> None:
        """R13: a fatal accident zeroes the score; a data leak keeps it but caps the grade."""
        assert score("safety", "SF0040", "2024-08") == 100.0
        assert score("safety", "SF0030", "2025-04") == 60.0
        assert score("safety", "SF0010", "2025-07") == 0.0
        scores = example("safety")[2].scores
        leak = scores[(scores["id"] == "SF0020") & (scores["period"] == "2024-11")]
        assert leak["score"].item() == 100.0
        assert bool(leak["lowest_grade"].item())


def test_results_are_deterministic() -> None:
    """Two runs of the same policy on the same data give identical score tables."""
    name = "logistics_cs"
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    a = calib.run(policy, DATASETS / name).scores
    b = calib.run(policy, DATASETS / name).scores
    pd.testing.assert_frame_equal(a, b)
    assert np.array_equal(a["score"].to_numpy(), b["score"].to_numpy(), equal_nan=True)
