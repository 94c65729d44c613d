"""Solvers and sensitivity (calibration): tune a policy's numbers against history.

Every function takes a ``Scenario`` (policy + data), respects the ranges the policy declares for
the numbers it moves, and returns the new policy with a report of what it achieved, including
what could not be achieved exactly (ties, steps of money), rather than hiding it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from calib._util.tolerance import REL
from calib.analysis.moves import moves
from calib.errors import CalibError
from calib.policy.model import Policy
from calib.scenario import Scenario


class CalibrationError(CalibError):
    """A solver cannot reach its target within the declared ranges."""


def _bounds(policy: Policy, path: str) -> tuple[float | None, float | None]:
    for p in policy.params():
        if p.path == path:
            return p.min, p.max
    raise CalibrationError(f"'{path}' is not a tunable number of policy {policy.name}")


def _graded_scores(scenario: Scenario, rules: list[str] | None) -> np.ndarray:
    """Scores of the rows graded by threshold rules (or by ``rules``), on grading's level."""
    policy = scenario.policy
    grading = policy.grading
    if grading is None:
        raise CalibrationError("the policy has no grading section")
    names = rules or [n for n, r in grading.rules.items() if r.method == "thresholds"]
    if not names:
        raise CalibrationError("no grading rule uses thresholds; name the rules to fit")
    g = scenario.result.grades
    rows = g[g["rule"].astype(str).isin(names) & g["grade"].notna() & ~g["vetoed"]]
    return rows["score"].to_numpy(dtype=np.float64)


def solve_thresholds(scenario: Scenario, target: dict[str, float],
                     rules: list[str] | None = None) -> tuple[Policy, pd.DataFrame]:
    """Grade minimums that reproduce ``target`` shares (grade → share) on history.

    The exact solution is a quantile: the k-th minimum sits between the score of the last person
    who should reach grade k (or better) and the next. With equal scores on that boundary no
    threshold can split them; the report says how many tie there and what share was achieved.
    Minimums stay inside their declared ranges and strictly decreasing.

    Parameters
    ----------
    scenario : Scenario
        The policy and the history to fit on; the policy must grade.
    target : dict
        The share wanted for each grade, by grade name (grades not named get 0); the shares
        add up to 1.
    rules : list of str, optional
        The grading rules whose rows are fitted; default: every rule graded by thresholds.

    Returns
    -------
    policy : Policy
        The policy with the new grade minimums (``grading.scale.grades[k].min``).
    report : DataFrame
        One row per grade: ``grade``, ``label``, ``target``, ``achieved`` (share), ``count``,
        ``min`` (the new minimum) and ``ties_at_min`` (scores equal to it, which no threshold
        can split).

    Raises
    ------
    CalibrationError
        If ``target`` names a grade not in the scale, its shares do not add up to 1, or no
        grading rule uses thresholds (and ``rules`` names none).
    PolicyError
        If the new minimums make an invalid policy.

    Examples
    --------
    >>> from calib.analysis.calibrate import solve_thresholds
    >>> s = calib.Scenario(calib.load_policy("datasets/gas_cs/policy.yaml"), "datasets/gas_cs")
    >>> policy2, report = solve_thresholds(s, {"A+": .1, "A": .3, "B": .4, "C": .15, "C-": .05})
    >>> report["grade"].tolist()
    ['A+', 'A', 'B', 'C', 'C-']
    """
    policy = scenario.policy
    if policy.grading is None:
        raise CalibrationError("the policy has no grading section: there are no grade minimums "
                               "to solve")
    scale = policy.grading.scale
    names = scale.names()
    unknown = sorted(set(target) - set(names))
    if unknown:
        raise CalibrationError(f"target names grades not in the scale: {', '.join(unknown)}")
    shares = np.array([float(target.get(n, 0.0)) for n in names])
    if abs(shares.sum() - 1.0) > REL:
        raise CalibrationError(f"target shares add up to {shares.sum():.4g}, not 1")
    scores = np.sort(_graded_scores(scenario, rules))[::-1]
    n = len(scores)
    counts = _best_counts(scores, shares * n)
    changes: dict[str, float] = {}
    previous = np.inf
    for k in range(len(names) - 1):
        path = f"grading.scale.grades[{k}].min"
        value = _split(scores, int(counts[k]))
        lo, hi = _bounds(policy, path)
        value = float(np.clip(value, lo if lo is not None else -np.inf,
                              hi if hi is not None else np.inf))
        if value >= previous:
            value = float(np.nextafter(previous, -np.inf))
        changes[path] = round(value, 6) if round(value, 6) < previous else value
        previous = changes[path]
    solved = policy.with_params(changes)
    after = _graded_scores(Scenario.with_policy(scenario, solved), rules)
    return solved, _threshold_report(solved, target, after, changes)


def _best_counts(scores: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Cumulative counts (people at or above each grade's minimum) closest to the target.

    Only counts at the edge of a run of equal scores can be made by a threshold; among those a
    dynamic programme picks the ones that minimise the total absolute error of the per-grade
    counts (greedy rounding of each boundary alone can be a person off when scores tie).
    """
    n = len(scores)
    edges = np.r_[0, np.flatnonzero(scores[1:] != scores[:-1]) + 1, n].astype(np.int64)
    grades = len(want)
    if len(edges) > 3000:  # keep memory bounded: round each boundary on its own
        cum = np.cumsum(want)[:-1]
        return np.array([edges[np.argmin(np.abs(edges - c))] for c in cum])
    cost = np.abs(edges - want[0]).astype(np.float64)
    back = []
    for k in range(1, grades - 1):
        step = cost[None, :] + np.abs(edges[:, None] - edges[None, :] - want[k])
        step = np.where(edges[None, :] <= edges[:, None], step, np.inf)
        back.append(np.argmin(step, axis=1))
        cost = step[np.arange(len(edges)), back[-1]]
    total = cost + np.abs(n - edges - want[-1])
    pick = [int(np.argmin(total))]
    for b in reversed(back):
        pick.append(int(b[pick[-1]]))
    return edges[np.array(pick[::-1])]


def _split(scores: np.ndarray, want: int) -> float:
    """A threshold putting ``want`` of the (descending) scores at or above it, as near as ties
    allow.
    """
    n = len(scores)
    if want <= 0:
        return float(scores[0] + 1.0) if n else 0.0
    if want >= n:
        return float(scores[-1])
    above, below = scores[want - 1], scores[want]
    if above > below:
        return float((above + below) / 2)
    # a tie on the boundary: include the tied scores or leave them all out, whichever is nearer
    ties_from = int(np.searchsorted(-scores, -above, side="left"))
    ties_to = int(np.searchsorted(-scores, -above, side="right"))
    if want - ties_from <= ties_to - want:
        return float((scores[ties_from - 1] + above) / 2) if ties_from > 0 else float(above + 1.0)
    return float(above)


def _threshold_report(policy: Policy, target: dict[str, float], scores: np.ndarray,
                      changes: dict[str, float]) -> pd.DataFrame:
    from calib.engine.grading import thresholds

    scale = policy.grading.scale
    idx = thresholds(scores, scale)
    counts = np.bincount(idx, minlength=len(scale.grades))
    rows = []
    for k, grade in enumerate(scale.grades):
        path = f"grading.scale.grades[{k}].min"
        threshold = changes.get(path)
        ties = int(np.sum(np.isclose(scores, threshold))) if threshold is not None else 0
        rows.append({"grade": grade.name, "label": grade.label, "target": target.get(grade.name, 0.0),
                     "achieved": counts[k] / max(len(scores), 1), "count": int(counts[k]),
                     "min": threshold, "ties_at_min": ties})
    return pd.DataFrame(rows)


def solve_budget(scenario: Scenario, budget: float, path: str,
                 bounds: tuple[float, float] | None = None) -> tuple[Policy, dict[str, Any]]:
    """The value of a money parameter (``path``) that makes the payout total meet ``budget``.

    Uses Brent's method on the payout total, which rises with the parameter; the total moves in
    whole cents, so the report gives the total achieved and the gap (at most the step that one
    unit of the parameter makes).

    Parameters
    ----------
    scenario : Scenario
        The policy and the history whose payout total is matched.
    budget : float
        The payout total wanted, in the policy's currency.
    path : str
        The parameter moved, e.g. ``"pay.components.bonus.coefficients.B"``.
    bounds : tuple of float, optional
        ``(low, high)`` to search in; default: the range declared for ``path`` (0 and ten times
        its value where none is declared).

    Returns
    -------
    policy : Policy
        The policy with ``path`` at the value found.
    report : dict
        ``path``, ``value`` (found), ``budget``, ``total`` (achieved), ``gap`` (total − budget,
        rounded to cents) and ``before`` (the total before the change).

    Raises
    ------
    CalibrationError
        If ``path`` is not a tunable number of the policy, or the budget cannot be met by moving
        it within the bounds (the message gives the totals at both ends).
    PolicyError
        If a value tried makes an invalid policy.

    Examples
    --------
    >>> from calib.analysis.calibrate import solve_budget
    >>> s = calib.Scenario(calib.load_policy("datasets/gas_cs/policy.yaml"), "datasets/gas_cs")
    >>> policy3, report = solve_budget(s, 3_400_000, "pay.components.bonus.coefficients.B")
    >>> abs(report["gap"]) < 1
    True
    """
    policy = scenario.policy
    found = _bounds(policy, path)  # refuses a path that is not a tunable number, bounds or not
    lo, hi = bounds or found
    value = float(policy.get(path))
    lo = lo if lo is not None else 0.0
    hi = hi if hi is not None else max(value * 10.0, 1.0)

    def gap(v: float) -> float:
        return scenario.with_params({path: v}).total_payout() - budget

    g_lo, g_hi = gap(lo), gap(hi)
    if g_lo > 0 or g_hi < 0:
        raise CalibrationError(
            f"a budget of {budget:,.2f} cannot be met by moving {path} within [{lo:g}, {hi:g}]: "
            f"the total runs from {g_lo + budget:,.2f} to {g_hi + budget:,.2f}")
    solution = optimize.brentq(gap, lo, hi, xtol=1e-9, maxiter=200)
    candidates = [v for v in (solution, np.nextafter(solution, np.inf),
                              np.nextafter(solution, -np.inf)) if lo <= v <= hi]
    best = min(candidates, key=lambda v: abs(gap(v)))
    rounded = min(max(round(best, 6), lo), hi)
    best = rounded if abs(gap(rounded)) <= abs(gap(best)) + 0.005 else best
    solved = policy.with_params({path: best})
    total = Scenario.with_policy(scenario, solved).total_payout()
    return solved, {"path": path, "value": best, "budget": budget, "total": total,
                    "gap": round(total - budget, 2), "before": scenario.total_payout()}


def _section_inputs(scenario: Scenario, section: str) -> tuple[list[str], np.ndarray, pd.DataFrame]:
    result = scenario.result
    sec = scenario.policy.sections[section]
    if sec.combine != "weighted":
        raise CalibrationError(f"section '{section}' is not weighted")
    children = list(sec.weights)
    rated = (result.scores["status"] == "rated").to_numpy()
    cols = []
    for child in children:
        table = result.kpi_points if child in scenario.policy.kpis else result.sections
        cols.append(table[child].to_numpy(dtype=np.float64))
    keys = result.scores.loc[rated, ["id", "period"]].astype(str).reset_index(drop=True)
    return children, np.column_stack(cols)[rated], keys


def _weighted(points: np.ndarray, weights: np.ndarray, total: float) -> np.ndarray:
    present = ~np.isnan(points)
    w = present * weights
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(present, points, 0.0) @ weights) / 100.0 * total / w.sum(axis=1)


def fit_weights(scenario: Scenario, section: str, reference: pd.Series,
                starts: int = 8, seed: int = 0) -> tuple[Policy, dict[str, Any]]:
    """Weights of a weighted section that best reproduce a reference ranking (Spearman's rho).

    ``reference`` is a score or rank per person (index: id; higher = better) — e.g. last year's
    manager ranking; the section's mean score per person over the periods is compared with it.
    Weights stay within their declared ranges and add up to the section's total weight. Rank
    correlation is a step function, so the solver (SLSQP from several starts) maximises the
    Pearson correlation with the reference's ranks, a smooth stand-in, and the report gives
    Spearman's rho and the share of pairs ranked the other way (Kendall), before and after.

    Parameters
    ----------
    scenario : Scenario
        The policy and the history to fit on.
    section : str
        The name of a weighted section of the policy.
    reference : Series
        A score or rank per person (index: person id; higher = better); people without a value
        are left out and counted in the report.
    starts : int, optional
        How many starting points the solver tries (the current weights first; default 8).
    seed : int, optional
        Seed of the random starting points (default 0): the same seed gives the same weights.

    Returns
    -------
    policy : Policy
        The policy with the new weights (never ranking worse than the current ones).
    report : dict
        ``weights_before``, ``weights_after``, ``spearman_before``, ``spearman_after``,
        ``discordant_before``, ``discordant_after``, ``people`` (compared) and
        ``reference_left_out``.

    Raises
    ------
    CalibrationError
        If the section is not weighted, fewer than 3 people are both in the data and the
        reference, or the reference is not a numeric Series with one value per person.
    KeyError
        If the policy has no section named ``section``.

    Examples
    --------
    >>> from calib.analysis.calibrate import fit_weights
    >>> s = calib.Scenario(calib.load_policy("datasets/gas_cs/policy.yaml"), "datasets/gas_cs")
    >>> year = s.result.rollups["year"]
    >>> ranking = year[year.period == "2024"].set_index("id").score.dropna()
    >>> policy4, report = fit_weights(s, "staff_sheet", ranking)
    >>> report["spearman_after"] >= report["spearman_before"]
    True
    """
    policy = scenario.policy
    sec = policy.sections[section]
    children, points, keys = _section_inputs(scenario, section)
    ref, left_out = _reference(reference)
    people = keys["id"].to_numpy()
    common = np.isin(people, ref.index)
    if common.sum() < 3:
        raise CalibrationError(
            f"fewer than 3 people appear both in the data and the reference ({len(ref)} people "
            "in the reference): its index must be the person ids of the data")
    codes, ids = pd.factorize(people[common])
    target = stats.rankdata(ref.reindex(ids).to_numpy(dtype=np.float64))
    counts = np.bincount(codes)
    pts = points[common]
    paths = [f"sections.{section}.weights.{c}" for c in children]
    bounds = []
    for path in paths:
        lo, hi = _bounds(policy, path)
        bounds.append((lo if lo is not None else 0.0, hi if hi is not None else sec.total_weight))

    def person_scores(w: np.ndarray) -> np.ndarray:
        score = np.nan_to_num(_weighted(pts, w, sec.total_weight))
        return np.bincount(codes, weights=score) / counts

    def loss(w: np.ndarray) -> float:
        s = person_scores(w)
        if np.std(s) == 0:
            return 1.0
        return -float(np.corrcoef(s, target)[0, 1])

    def rho(w: np.ndarray) -> float:
        value = stats.spearmanr(person_scores(w), target).statistic
        return float(value) if value == value else -1.0

    rng = np.random.default_rng(seed)
    current = np.array([sec.weights[c] for c in children], dtype=np.float64)
    constraint = {"type": "eq", "fun": lambda w: w.sum() - sec.total_weight}
    candidates = [current]
    for i in range(starts):
        x0 = current if i == 0 else _random_weights(rng, bounds, sec.total_weight)
        res = optimize.minimize(loss, x0, method="SLSQP", bounds=bounds, constraints=[constraint])
        if res.success:
            candidates.append(np.array(_round_weights(res.x, bounds, sec.total_weight)))
    weights = [float(x) for x in max(candidates, key=rho)]  # never worse than where it started
    solved = policy.with_params(dict(zip(paths, weights, strict=True)))
    before = person_scores(current)
    after = person_scores(np.array(weights))
    return solved, {
        "weights_before": dict(zip(children, current.tolist(), strict=True)),
        "weights_after": dict(zip(children, weights, strict=True)),
        "spearman_before": float(stats.spearmanr(before, target).statistic),
        "spearman_after": float(stats.spearmanr(after, target).statistic),
        "discordant_before": _discordant(before, target),
        "discordant_after": _discordant(after, target),
        "people": len(ids),
        "reference_left_out": left_out,
    }


def _reference(reference: pd.Series) -> tuple[pd.Series, int]:
    """A reference ranking as numbers by person id (text), and how many people it left without
    a value (left out of the comparison, and counted in the report, not silently dropped).
    """
    if not isinstance(reference, pd.Series):
        raise CalibrationError(
            f"the reference must be a pandas Series indexed by person id (higher = better), "
            f"got {type(reference).__name__}; from a table: table.set_index('id')['score']")
    if not pd.api.types.is_numeric_dtype(reference.dtype) and \
            not pd.api.types.is_bool_dtype(reference.dtype):
        raise CalibrationError(f"the reference must hold numbers (a score or rank per person), "
                               f"got values of type {reference.dtype}")
    ref = reference.astype(np.float64)
    ref.index = ref.index.astype(str)
    twice = ref.index[ref.index.duplicated()].unique()
    if len(twice):
        raise CalibrationError(f"the reference names {len(twice)} people twice "
                               f"({', '.join(map(str, twice[:5]))}): keep one value per person")
    missing = int(ref.isna().sum())
    return ref.dropna(), missing


def _random_weights(rng: np.random.Generator, bounds: list[tuple[float, float]],
                    total: float) -> np.ndarray:
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    w = lo + rng.random(len(bounds)) * (hi - lo)
    return w * total / w.sum() if w.sum() > 0 else np.full(len(bounds), total / len(bounds))


def _round_weights(w: np.ndarray, bounds: list[tuple[float, float]], total: float) -> list[float]:
    """Weights to 0.01, adjusted so they add up to the total exactly and stay in bounds."""
    out = np.round(np.clip(w, [b[0] for b in bounds], [b[1] for b in bounds]), 2)
    diff = round(total - out.sum(), 2)
    order = np.argsort(-(np.array([b[1] for b in bounds]) - out)) if diff > 0 else np.argsort(
        -(out - np.array([b[0] for b in bounds])))
    i = int(order[0])
    out[i] = round(out[i] + diff, 2)
    return [float(x) for x in out]


def _discordant(scores: np.ndarray, target: np.ndarray) -> float:
    """Share of pairs of people ranked the other way round (from Kendall's tau-b)."""
    tau = stats.kendalltau(scores, target).statistic
    return float((1 - tau) / 2) if tau == tau else 0.5


def sensitivity(scenario: Scenario, paths: list[str] | None = None, rel: float = 0.05,
                limit: int = 30) -> pd.DataFrame:
    """What a ±``rel`` move of each parameter does: payout total, grades, who changes grade.

    Moves stay inside the declared ranges; a move the policy refuses (it would make bands
    overlap, or weights not add up) is reported as such rather than skipped silently. The
    result feeds ``calib.lab.charts.tornado`` (columns parameter, low, high).

    Parameters
    ----------
    scenario : Scenario
        The policy and the history to move the parameters on.
    paths : list of str, optional
        The parameters to move; default: the policy's thresholds, money, factors and points,
        the first ``limit`` of them.
    rel : float, optional
        The relative move each way (default 0.05, ±5 %); a parameter at 0 moves by ±``rel``.
    limit : int, optional
        How many parameters to take when ``paths`` is not given (default 30).

    Returns
    -------
    DataFrame
        One row per parameter, largest effect first: ``parameter``, ``value``, ``low_value``
        and ``high_value`` (the values tried), ``low`` and ``high`` (change of the payout
        total), ``moved_low`` and ``moved_high`` (rows that change grade, as
        ``calib.analysis.moves.moves`` lists them), ``range``, and
        ``note_low``/``note_high`` where the policy refused a move.

    Raises
    ------
    KeyError
        If ``paths`` names a path that is not a tunable number of the policy.

    Examples
    --------
    >>> from calib.analysis.calibrate import sensitivity
    >>> s = calib.Scenario(calib.load_policy("datasets/gas_cs/policy.yaml"), "datasets/gas_cs")
    >>> table = sensitivity(s, rel=0.05, limit=3)
    >>> table.columns[:4].tolist()
    ['parameter', 'value', 'low_value', 'low']
    """
    policy = scenario.policy
    params = {p.path: p for p in policy.params()}
    paths = paths or [p for p, x in params.items() if x.role in ("threshold", "money", "factor",
                                                                    "points")][:limit]
    base_total = scenario.total_payout()
    rows = []
    for path in paths:
        p = params[path]
        row: dict[str, Any] = {"parameter": path, "value": p.value}
        for side, factor in (("low", 1 - rel), ("high", 1 + rel)):
            value = p.value * factor if p.value != 0 else (rel if side == "high" else -rel)
            if p.min is not None:
                value = max(value, p.min)
            if p.max is not None:
                value = min(value, p.max)
            try:
                moved = scenario.with_params({path: value})
            except CalibError as exc:
                row[f"{side}_value"], row[side], row[f"moved_{side}"] = value, np.nan, np.nan
                row[f"note_{side}"] = str(exc).splitlines()[-1].strip(" -")
                continue
            row[f"{side}_value"] = value
            row[side] = round(moved.total_payout() - base_total, 2)
            row[f"moved_{side}"] = len(moves(scenario, moved))
        rows.append(row)
    out = pd.DataFrame(rows)
    out["range"] = (out[["low", "high"]].max(axis=1) - out[["low", "high"]].min(axis=1)).fillna(0)
    return out.sort_values("range", ascending=False, kind="stable").reset_index(drop=True)
