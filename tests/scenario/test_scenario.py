"""A ``Scenario`` re-run reuses what a change did not touch; whatever it reuses, every table must
equal a fresh run of the changed policy — after any chain of changes, and when a slider comes
back to a value it had before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import examples
from same_results import assert_same

import calib
from calib.scenario import Scenario

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
EXAMPLES = sorted(p.parent.name for p in DATASETS.glob("*/policy.yaml"))


def _moves(policy: calib.Policy) -> list[dict]:
    """One change per kind of number (a threshold, points, a weight pair, a factor, money, a
    ratio pair), each inside its allowed range."""
    params = policy.params()
    moves: list[dict] = []
    seen: set[str] = set()
    for p in params:
        key = p.role + (" ratio" if ".ratios." in p.path else "")
        if key in seen or p.role == "weight":
            continue
        if ".ratios." in p.path:  # move two shares of the same row together
            row = p.path.rsplit(".", 1)[0]
            mate = next((q for q in params if q.path != p.path
                         and q.path.rsplit(".", 1)[0] == row and q.value >= 0.05), None)
            if mate is None or p.value > 0.95:
                continue
            moves.append({p.path: round(p.value + 0.05, 6), mate.path: round(mate.value - 0.05, 6)})
        else:
            step = 0.1 if p.role == "factor" else 1
            value = p.value + step
            if p.max is not None and value > p.max:
                value = p.value - step
            if p.min is not None and value < p.min:
                continue
            moves.append({p.path: value})
        seen.add(key)
    return moves


@pytest.mark.parametrize("name", examples())
def test_chain_of_changes_equals_fresh_runs(name: str) -> None:
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    data = calib.load_data(DATASETS / name, policy)
    scenario = Scenario(policy, data)
    assert_same(scenario.result, calib.run(policy, data), f"{name} start")
    moves = _moves(policy)
    assert moves
    for change in moves:
        try:
            moved = scenario.with_params(change)
        except calib.PolicyError:
            continue  # a move the policy's own checks refuse (a tier overlapping the next)
        assert_same(moved.result, calib.run(moved.policy, data), f"{name} {change}")
        scenario = moved  # the next change starts from this one: caches chain
    back = scenario.with_policy(policy)  # the sliders back where they started
    assert_same(back.result, calib.run(policy, data), f"{name} back")


@pytest.mark.parametrize(("name", "old", "bad", "good"), [
    # commendations of 10 are recorded; the declared range keeps a slider at 10 or more, but
    # a policy edited by hand can go lower
    ("ethics_diligence", "bonus: {column: commendation, min: 0, max: 10}",
     "bonus: {column: commendation, min: 0, max: 5}",
     "bonus: {column: commendation, min: 0, max: 12}"),
    ("property_cs", "levels: [1, 2, 3, 5, 8,", "levels: [1, 2, 4, 5, 8,",  # +3 events recorded
     "levels: [1, 2, 3, 4, 5, 8,"),  # one level more: every event still allowed
])
def test_a_change_the_data_breaks_is_refused_as_loading_refuses_it(name, old, bad, good) -> None:
    """The data was checked against the rules once, when loaded; a changed policy that makes
    recorded values invalid (a bonus maximum below a recorded bonus, an add/deduct level that
    events use) must raise the same DataError as loading the data under it, not score them
    silently; a valid policy after it runs again."""
    text = (DATASETS / name / "policy.yaml").read_text(encoding="utf-8")
    text = text.replace("  scorecards.staff.bonus.max: {min: 10, max: 20}\n", "")  # no range
    assert old in text
    policy = calib.parse_policy(text)
    data = calib.load_data(DATASETS / name, policy)
    scenario = Scenario(policy, data)
    changed = calib.parse_policy(text.replace(old, bad))
    with pytest.raises(calib.DataError) as fresh:
        calib.run(changed, data)
    with pytest.raises(calib.DataError) as live:
        scenario.with_policy(changed)
    assert len(live.value.problems) > 0
    pd.testing.assert_frame_equal(live.value.problems, fresh.value.problems)
    with pytest.raises(calib.DataError):  # remembered, and refused again
        scenario.with_policy(changed)
    if name == "property_cs":  # the same through a parameter path (levels have no range)
        with pytest.raises(calib.DataError):
            scenario.with_params({"scorecards.staff.adjustments.levels[0]": 4})
    valid = calib.parse_policy(text.replace(old, good))
    moved = scenario.with_policy(valid)
    assert_same(moved.result, calib.run(valid, data), f"{name} {good}")
    assert_same(scenario.result, calib.run(policy, data), f"{name} unchanged")


def test_grading_change_shares_scoring_tables() -> None:
    policy = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")
    scenario = Scenario(policy, DATASETS / "gas_cs")
    grade_param = next(p for p in policy.params() if p.path.startswith("pay."))
    moved = scenario.with_params({grade_param.path: grade_param.value + 1})
    assert moved.result.scores is scenario.result.scores
    assert moved.result.kpi_points is scenario.result.kpi_points


def test_results_pickle_with_every_table() -> None:
    """A result goes to another process (a worker, a file) whole: tables built, no cache."""
    import pickle

    policy = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")
    plain = calib.run(policy, DATASETS / "gas_cs")
    live = Scenario(policy, DATASETS / "gas_cs").with_params(
        {"grading.scale.grades[0].min": policy.get("grading.scale.grades[0].min") + 1}).result
    for result in (plain, live):
        back = pickle.loads(pickle.dumps(result))
        assert_same(back, result, "pickled")
        assert back.frame.memo is None


def test_memo_keeps_what_is_used_and_forgets_the_rest() -> None:
    """The store stays bounded; a result read on every re-run survives any number of others."""
    from calib._util.memo import STORE_SIZE, remember

    store: dict = {}
    calls = []
    for i in range(3 * STORE_SIZE):
        remember(store, ("every run",), lambda: calls.append("every run") or "kept")
        remember(store, ("value", i), lambda i=i: i)
        assert len(store) <= STORE_SIZE
    assert calls == ["every run"]
    assert ("value", 0) not in store and ("value", 3 * STORE_SIZE - 1) in store


def test_memo_forgets_past_its_budget_of_bytes() -> None:
    """A Memo counts the arrays its results hold (shared ones once) and forgets the least
    recently used past its budget; what every re-run reads stays."""
    import numpy as np

    from calib._util.memo import Memo, footprint, remember

    column = np.zeros(1000)  # 8,000 bytes
    assert footprint((column, column[:10], {"a": [column]})) == 8000
    assert footprint(np.zeros(10, dtype=np.int32)) == 40
    # calib's own objects are looked into (a built Lazy, a dataclass, a table); numbers, text,
    # functions, other stores and objects from elsewhere are not; five levels down is not
    from calib.engine.result import Lazy
    from calib.kernels.ranking import Ranked

    ranked = Ranked(np.zeros(100, dtype=np.int64), np.zeros(100, dtype=np.int64),
                    np.zeros(100, dtype=np.int64), column)
    built = Lazy(lambda: pd.DataFrame({"x": np.zeros(50)}))
    built()
    inner = Memo()
    inner["x"] = np.zeros(500)
    assert footprint([ranked, built, Lazy(lambda: column), 3.5, "text", np.float64(2.0),
                      len, inner, object()]) == 3 * 800 + 8000 + 400
    assert footprint([[[[[column]]]]]) == 0 and footprint([[[[column]]]]) == 8000
    store = Memo(budget=50_000)
    calls = []
    for i in range(40):
        remember(store, ("every run",), lambda: calls.append(1) or np.ones(1000))
        remember(store, ("value", i), lambda: (np.zeros(1000), "text"))
        assert store.bytes <= 50_000
        assert store.bytes == sum(store.sizes.values())
    assert calls == [1]
    assert ("value", 0) not in store and ("value", 39) in store
    assert len(store) == 6  # 6 × 8,000 bytes fit in 50,000


def test_a_long_slider_session_stays_within_the_budget(monkeypatch) -> None:
    """Many distinct values of a KPI slider under a small budget: the scenario's store stays
    within it (forgetting), and a value visited long ago, computed again, equals a fresh run."""
    import calib._util.memo

    monkeypatch.setattr(calib._util.memo, "MIN_BYTES", 300_000)  # about half of one run's results
    monkeypatch.setattr(calib._util.memo, "COLUMNS", 1)
    folder = DATASETS / "ecommerce_cs"
    policy = calib.load_policy(folder / "policy.yaml")
    scenario = Scenario(policy, folder)
    memo = scenario._frame.memo
    assert isinstance(memo, calib._util.memo.Memo) and memo.budget == 300_000
    path = next(p.path for p in policy.params() if p.path.startswith("kpis."))
    start = policy.get(path)
    forgot = 0
    for i in range(30):
        before = set(memo)
        scenario.with_params({path: start * (1 + 0.001 * i)}).result.grade_counts()
        forgot += len(before - set(memo))
        assert memo.bytes <= memo.budget
    assert forgot > 0
    again = scenario.with_params({path: start}).result
    assert_same(again, calib.run(policy, folder), "after a long session")


def test_roll_ups_wait_until_read(shops) -> None:
    """A re-run of a scheme graded and paid per month leaves its roll-ups to be averaged when a
    table (or code) reads them; then they equal a fresh run's."""
    from calib.engine.result import Lazy

    path = next(p.path for p in shops.policy.params() if p.path.startswith("kpis."))
    moved = shops.with_params({path: shops.policy.get(path) * 1.01}).result
    assert shops.policy.grading.on == "period" and shops.policy.rollups
    for name in shops.policy.rollups:
        assert isinstance(dict.__getitem__(moved.rollups, name), Lazy)
        assert isinstance(dict.__getitem__(moved.rollup_rows, name), Lazy)
    fresh = calib.run(moved.policy, DATASETS / "ecommerce_cs")
    for name in shops.policy.rollups:
        pd.testing.assert_frame_equal(moved.rollups[name], fresh.rollups[name])
        assert (moved.rollup_rows[name].score == fresh.rollup_rows[name].score)[
            ~pd.isna(fresh.rollup_rows[name].score)].all()


def test_array_keys_are_remembered_while_the_array_lives() -> None:
    """``array_key`` hashes an array once, answers like ``fingerprint``, and forgets it with the
    array (a new array at the same address is hashed anew)."""
    import gc

    import numpy as np

    from calib._util.memo import _SLOTS, array_key, fingerprint

    a = np.arange(1000)
    assert array_key(a) == fingerprint(a) == array_key(a)
    b = np.arange(1000) * 2
    assert array_key(b) != array_key(a)
    ident = id(a)
    del a
    gc.collect()
    assert ident not in _SLOTS


def test_a_label_column_copy_is_independent() -> None:
    """Reasons kept for re-runs are copied before a run adds its own."""
    import numpy as np

    from calib._util.columns import LabelColumn

    kept = LabelColumn(4)
    kept.set(np.array([True, False, False, False]), "left")
    mine = kept.copy()
    mine.set(np.array([False, True, False, False]), "no data")
    assert kept.values().tolist() == ["left", None, None, None]
    assert mine.values().tolist() == ["left", "no data", None, None]


def test_json_keys_follow_the_very_policy_part() -> None:
    """``json_key`` answers like ``model_dump_json`` (with options too), and a changed policy
    (a new part object) gets its own text."""
    from calib._util.memo import json_key

    policy = calib.load_policy(DATASETS / "ecommerce_cs" / "policy.yaml")
    forced = policy.grading.rules["shops"].forced
    assert json_key(forced) == forced.model_dump_json() == json_key(forced)
    assert json_key(forced, exclude={"ratios", "method"}) == forced.model_dump_json(
        exclude={"ratios", "method"})
    path = next(p.path for p in policy.params() if p.path.startswith("grading.rules.shops.forced"
                                                                     ".ratios"))
    moved = policy.with_params({path: policy.get(path)}).grading.rules["shops"].forced
    other = policy.grading.rules["shops"].forced.model_copy(update={"method": "dhondt"}) if (
        forced.method != "dhondt") else forced.model_copy(update={"method": "hamilton"})
    assert json_key(moved) == forced.model_dump_json()
    assert json_key(other) == other.model_dump_json() != json_key(forced)


@pytest.mark.parametrize("name", examples(["gas_cs", "ecommerce_cs", "call_centre", "property_cs",
                                  "ethics_diligence", "logistics_cs", "safety", "support_team"]))
def test_pay_parts_declare_whether_they_read_grades(name) -> None:
    """A re-run keeps a component (or the pool) across grading changes only when it declares it
    does not read grades: on every example, computing each one reads the grades exactly when its
    ``reads_grades`` says so."""
    from calib.engine.components import PayContext
    from calib.engine.payout import _pool, component_amount, paying_order
    from calib.engine.stages import population
    from calib.kernels.money import to_units

    folder = DATASETS / name
    policy = calib.load_policy(folder / "policy.yaml")
    if policy.pay is None:
        pytest.skip("this scheme does not pay")
    scenario = Scenario(policy, folder)
    scored = scenario._scored[1]
    frame = scenario._frame
    pop, last = population(frame, scenario.result, policy.pay.on, scored.card, scored.out,
                           scored.rated)
    grades = scenario.result.arrays.get("grade")
    same = policy.grading is not None and policy.grading.on == policy.pay.on
    rank = np.zeros(pop.n, dtype=np.int64)
    paid = {}  # what a team mean (R19) averages: the units of the components paid before it
    for comp_name in paying_order(policy.pay.components):
        comp = policy.pay.components[comp_name]
        c = PayContext(frame, pop, last, grades if same else None, scored.values, rank)
        c.paid.update(paid)
        paid[comp_name] = to_units(component_amount(c, comp_name, comp), policy.pay.unit)
        assert c.read_grades == comp.reads_grades, comp_name
    if policy.pay.pool is not None:
        c = PayContext(frame, pop, last, grades if same else None, scored.values)
        _pool(c, policy.pay.pool, grades if same else None)
        assert c.read_grades == policy.pay.pool.reads_grades


@pytest.mark.parametrize("name", examples(["ecommerce_cs", "gas_cs", "property_cs", "call_centre"]))
def test_sections_recombined_only_where_points_moved(name, monkeypatch) -> None:
    """A KPI slider on large data re-combines the sections only on the rows whose points moved;
    forced on for the examples' size, every table after each move equals a fresh run's."""
    import calib.engine.score

    monkeypatch.setattr(calib.engine.score, "DELTA_ROWS", 0)
    folder = DATASETS / name
    policy = calib.load_policy(folder / "policy.yaml")
    scenario = Scenario(policy, folder)
    kpi = [p for p in policy.params() if p.path.startswith("kpis.") and p.value][:2]
    calls = []
    real = calib.engine.score._sections_where_moved
    monkeypatch.setattr(calib.engine.score, "_sections_where_moved",
                        lambda *a: calls.append(1) or real(*a))
    for i, p in enumerate(kpi * 2):
        value = p.value * (1 + 0.01 * (i + 1))
        if p.max is not None and value > p.max:
            value = p.value * (1 - 0.01 * (i + 1))
        try:
            moved = scenario.with_params({p.path: value})
        except calib.PolicyError:
            continue  # out of the declared range or breaking an order: another value
        scenario = moved
        assert_same(scenario.result, calib.run(scenario.policy, folder), f"{name} {p.path}")
    assert calls


@pytest.mark.parametrize("name", examples(["ecommerce_cs", "gas_cs"]))
def test_sections_recombined_from_the_last_run_of_any_scenario(name, monkeypatch) -> None:
    """A slider makes every move from the same starting scenario; the sections are re-combined
    from the last run on the rows (the slider's previous position), whichever scenario made it:
    moves from the start, a branch from a moved scenario, a weights change in between (other
    sections: every row again) and back — every table equals a fresh run's, and after the first
    move the rows re-combined are the ones that moved since the previous position."""
    import calib.engine.score
    from calib.engine.frame import RowSubset

    monkeypatch.setattr(calib.engine.score, "DELTA_ROWS", 0)
    folder = DATASETS / name
    policy = calib.load_policy(folder / "policy.yaml")
    data = calib.load_data(folder, policy)
    start = Scenario(policy, data)
    p = next(p for p in policy.params() if p.path.startswith("kpis.")
             and p.path.endswith("bands[0].at") and p.value)
    gap = abs(p.value - policy.get(p.path.replace("bands[0]", "bands[1]")))
    step = -gap / 10 if policy.get(p.path.rsplit(".bands", 1)[0] + ".bound") == "lower" \
        else gap / 10  # towards the next band, never past it
    subsets = []
    monkeypatch.setattr(calib.engine.score, "RowSubset",
                        lambda frame, rows: subsets.append(len(rows)) or RowSubset(frame, rows))
    sec, sec_spec = next((k, v) for k, v in policy.sections.items() if len(v.weights or {}) >= 2)
    first, second = list(sec_spec.weights)[:2]
    reweigh = {f"sections.{sec}.weights.{first}": sec_spec.weights[first] + 1,
               f"sections.{sec}.weights.{second}": sec_spec.weights[second] - 1}
    runs = []
    for k in (1, 2, 3, 4):
        runs.append(start.with_params({p.path: p.value + k * step}))
    runs.append(runs[1].with_params({p.path: p.value + 4.5 * step}))  # a branch off a moved one
    runs.append(start.with_params(reweigh))  # other sections: every row again
    runs.append(start.with_params({p.path: p.value + 5.5 * step}))
    for moved in runs:
        assert_same(moved.result, calib.run(moved.policy, data), f"{name} {moved.policy}")
    assert subsets, "the sections were never re-combined on moved rows only"
    # step 4 from the start differs from step 3's points only where the bound crossed values
    points = {k: runs[k].result.kpi_points[p.path.split(".")[1]].to_numpy() for k in (2, 3)}
    between = int((~np.isclose(points[2], points[3], equal_nan=True)).sum())
    assert between in subsets


@pytest.mark.parametrize("name", examples())
def test_pay_recomputed_only_where_scores_or_grades_moved(name, monkeypatch) -> None:
    """On large data a re-run recomputes a row-wise pay component only on the rows whose score
    or grade moved; forced on for the examples' size, every table after each move (KPI numbers,
    grade thresholds and ratios, money) equals a fresh run's."""
    import calib.engine.payout
    import calib.engine.score

    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    if policy.pay is None or policy.pay.on != "period" or not any(
            c.row_wise for c in policy.pay.components.values()):
        pytest.skip("no row-wise pay component on the period rows")
    monkeypatch.setattr(calib.engine.score, "DELTA_ROWS", 0)
    monkeypatch.setattr(calib.engine.score, "DELTA_SHARE", 1.0)  # even when most rows moved
    subsets = []
    real = calib.engine.components.PayContext.of_rows
    monkeypatch.setattr(calib.engine.components.PayContext, "of_rows",
                        classmethod(lambda cls, c, rows: subsets.append(len(rows))
                                    or real(c, rows)))
    data = calib.load_data(DATASETS / name, policy)
    scenario = Scenario(policy, data)
    kpi = [p for p in policy.params() if p.path.startswith("kpis.") and p.value][:2]
    moves = [{p.path: p.value * f} for f in (1.01, 1.03) for p in kpi] + _moves(policy)
    for change in moves:
        try:
            moved = scenario.with_params(change)
        except calib.PolicyError:
            continue  # out of the declared range or breaking an order: another value
        assert_same(moved.result, calib.run(moved.policy, data), f"{name} {change}")
        scenario = moved
    assert subsets and min(subsets) < scenario._frame.n


def test_a_dropped_scenario_family_is_freed_without_the_collector() -> None:
    """Stage results refer to the frame they came from and the frame to its memo, a cycle: the
    memo forgets everything when the last scenario sharing it is gone, so the frames and their
    arrays are freed at once (not at the garbage collector's next full pass). A result kept on
    its own still builds its tables, equal to a fresh run's, and frees them when dropped."""
    import gc
    import weakref

    folder = DATASETS / "ecommerce_cs"
    policy = calib.load_policy(folder / "policy.yaml")
    data = calib.load_data(folder, policy)
    p = next(p for p in policy.params() if p.path.startswith("kpis.") and p.value)
    gc.collect()
    gc.disable()
    try:
        for keep in (False, True):
            start = Scenario(policy, data)
            moved = start.with_params({p.path: p.value * 0.99})
            memo = start._frame.memo
            assert memo is moved._frame.memo and memo.users == 2 and len(memo)
            frames = [weakref.ref(start._frame), weakref.ref(moved._frame)]
            kept = moved.result if keep else None
            del start
            assert len(memo) and memo.users == 1  # the other scenario still uses it
            del moved
            assert memo.users == 0 and len(memo) == 0 and memo.bytes == 0
            if keep:
                assert_same(kept, calib.run(kept.policy, data), "a result kept on its own")
                del kept
            assert [f() for f in frames] == [None, None]  # no collection ran
    finally:
        gc.enable()


@pytest.mark.parametrize("name", ["ecommerce_cs", "property_cs"])
def test_slider_moves_leave_no_cycles_of_calib_objects(name) -> None:
    """A slider's moves (tables read each time) leave no frame, population, store or stage
    result in reference cycles: what a move replaced is freed at once, not at the garbage
    collector's next full pass (flags refer to their population, which keeps them)."""
    import gc

    folder = DATASETS / name
    policy = calib.load_policy(folder / "policy.yaml")
    data = calib.load_data(folder, policy)
    p = next(p for p in policy.params() if p.path.startswith("kpis.") and p.value)
    start = Scenario(policy, data)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for i in range(6):
            moved = start.with_params({p.path: p.value * (1 - 0.002 * (i + 1))})
            moved.result.grades, moved.result.payouts  # noqa: B018 - built, as a table view does
        del moved
        gc.collect()
        ours = sorted({type(o).__name__ for o in gc.garbage
                       if type(o).__module__.startswith("calib.")})
        assert ours == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
