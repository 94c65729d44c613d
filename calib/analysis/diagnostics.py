"""Diagnostics of a run: who scores leniently, whether grades match their targets, fairness, inflation.

Every function takes a :class:`calib.Result` and returns a ``pandas.DataFrame`` whose columns are
named for HR readers. The statistics are standard and explained in each docstring in plain words:

- a **p-value** is the chance of a difference at least this large if there were really none (if the
  group or rater were "in line"). Small (below ``alpha``, usually 0.05) means the difference is
  unlikely to be luck;
- when many groups or raters are tested at once, some will look significant by luck alone; the
  **Holm-adjusted p** corrects for that (it is the p-value to compare with ``alpha``);
- an **effect size** (Cohen's d) says how large a difference is in units of the usual spread of
  scores: about 0.2 is small, 0.5 medium, 0.8 large, whatever the number of people.

Scores of the same person in different months are not independent evidence; the leniency tests count
each person once per group by default (``unit="person"``). The grade and pay tests of
:func:`parity` and :func:`distribution_vs_target` count graded rows, as HR counts grades.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from calib._util.text import as_text
from calib.engine.result import Result
from calib.errors import CalibError
from calib.kernels.apportion import apportion
from calib.policy.groups import grouping_columns, people_text_columns
from calib.policy.measures import RatingMeasure

ALL = "(all)"

__all__ = ["alabama", "distribution_vs_target", "group_leniency", "inflation", "parity",
           "rater_leniency", "report", "small_teams"]


# --------------------------------------------------------------------------- shared helpers


def holm(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (NaN stays NaN and is not counted as a test).

    Parameters
    ----------
    p : array-like of float
        Raw p-values of a family of tests.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values: the smallest is multiplied by the number of tests, the next by one less,
        and so on, never decreasing and at most 1.
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if not len(ok):
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    adj = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out[order] = adj
    return out


def _verdict(diff: np.ndarray, p_adj: np.ndarray, alpha: float, up: str, down: str) -> list[str]:
    out = []
    for d, p in zip(diff, p_adj, strict=True):
        if np.isnan(p):
            out.append("too few")
        elif p < alpha:
            out.append(up if d > 0 else down)
        else:
            out.append("in line")
    return out


def _level(result: Result, on: str) -> str:
    """'period' for the period scores, else the name of a roll-up."""
    if on in ("period", None):
        return "period"
    if on not in result.rollups:
        raise CalibError(f"'{on}' is neither 'period' nor a roll-up of the policy "
                         f"({', '.join(result.rollups) or 'none'})")
    return on


def _rows(result: Result, on: str) -> pd.DataFrame:
    """Rated rows at a level: id, period (text), score, and ``_row`` (the scores/roll-up row)."""
    level = _level(result, on)
    table = result.scores if level == "period" else result.rollups[level]
    out = pd.DataFrame({"id": table["id"].astype(str).to_numpy(),
                        "period": table["period"].astype(str).to_numpy(),
                        "score": table["score"].to_numpy(dtype=float),
                        "_row": np.arange(len(table))})
    rated = (table["status"] == "rated").to_numpy() & np.isfinite(out["score"].to_numpy())
    return out[rated].reset_index(drop=True)


def _graded_on(result: Result) -> str | None:
    g = result.policy.grading
    return None if g is None or result.grades is None else ("period" if g.on == "period" else g.on)


def _paid_on(result: Result) -> str | None:
    pay = getattr(result.policy, "pay", None)
    return None if pay is None or result.payouts is None else ("period" if pay.on == "period" else pay.on)


def _join(rows: pd.DataFrame, table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    right = table[["id", "period", *columns]].copy()
    right["id"] = right["id"].astype(str)
    right["period"] = right["period"].astype(str)
    right = right.drop_duplicates(["id", "period"], keep="last")
    return rows.merge(right, on=["id", "period"], how="left")


def _period_bound(labels: pd.Series, end: bool) -> pd.Series:
    """Start (or end) date of each period label (``2025-03``, ``2025Q1``, ``2025``); NaT if unknown."""
    def one(text: str):
        try:
            p = pd.Period(text)
        except (ValueError, TypeError):
            return pd.NaT
        return (p.end_time if end else p.start_time).normalize()
    uniq = {v: one(v) for v in pd.unique(labels)}
    return pd.to_datetime(labels.map(uniq))


def _band_labels(bands: Sequence[float]) -> list[str]:
    b = [f"{x:g}" for x in bands]
    return [f"{b[i]}–{b[i + 1]} y" for i in range(len(b) - 1)] + [f"{b[-1]}+ y"]


def _tenure_bands(hired: pd.Series, rows: pd.DataFrame, bands: Sequence[float]) -> pd.Series:
    """Tenure in years at the end of each row's period, cut into ``bands`` (lower bound included)."""
    years = (_period_bound(rows["period"], end=True) - pd.to_datetime(hired)).dt.days / 365.25
    edges = [*bands, np.inf]
    cut = pd.cut(years, edges, right=False, labels=_band_labels(bands))
    return pd.Series(as_text(cut), index=cut.index, dtype=object)


def _column(result: Result, rows: pd.DataFrame, name: str, on: str) -> pd.Series:
    """Values of a records or people column for each row (at the period or a roll-up level)."""
    frame = result.frame
    level = _level(result, on)
    if name == "group":
        if result.grades is None or _graded_on(result) != level:
            raise CalibError(f"'group' is the quota group of the grades, which are given on "
                             f"'{_graded_on(result)}', not on '{level}'")
        group = _join(rows[["id", "period"]], result.grades, ["group"])["group"].astype(object)
        return group.where(group.notna(), None)
    if frame is None or not frame.has_column(name):
        raise CalibError(f"no column '{name}' in the records or people tables")
    values = frame.column(name)
    values = pd.Series(np.asarray(values, dtype=object) if not isinstance(values, pd.Series)
                       else values.astype(object).to_numpy())
    if level == "period":
        picked = values.iloc[rows["_row"].to_numpy()]
    else:
        codes = result.rollup_rows[level].codes
        last = pd.Series(np.arange(len(codes))).groupby(codes).last()  # last records row
        picked = values.iloc[last.reindex(rows["_row"]).to_numpy()]
    picked = picked.reset_index(drop=True)
    return picked.where(picked.notna(), None)


def _groups(result: Result, rows: pd.DataFrame, by: str, on: str,
            bands: Sequence[float] | None = None) -> pd.Series:
    col = _column(result, rows, by, on)
    if bands is not None:
        return _tenure_bands(col, rows, bands)
    return pd.Series(as_text(col), index=col.index, dtype=object)


def _years(periods: pd.Series) -> np.ndarray:
    """Years since the first period (from the period start dates; the period index if unparsable)."""
    start = _period_bound(periods, end=False)
    if start.notna().all() and len(start):
        return ((start - start.min()).dt.days / 365.25).to_numpy()
    return np.arange(len(periods), dtype=float)


# --------------------------------------------------------------------------- leniency of groups


def group_leniency(result: Result, by: str, on: str = "period", alpha: float = 0.05,
                   unit: str = "person") -> pd.DataFrame:
    """Groups that score higher (lenient) or lower (harsh) than the rest of the organisation.

    For each value of ``by`` (a department, a team, a manager, a branch) the scores of its people
    are compared with everyone else's. A group is *lenient* when its scores are higher than the
    rest by more than chance explains, *harsh* when lower, *in line* otherwise. A real difference in
    performance looks the same as leniency here: the table says where to look, not why.

    Parameters
    ----------
    result : calib.Result
        A run.
    by : str
        A records or people column (``department``, ``supervisor_id``), or ``"group"`` for the quota
        group of the grades (forced distribution or cascade).
    on : str, default "period"
        ``"period"`` for the period scores, or a roll-up name (``"year"``).
    alpha : float, default 0.05
        Significance level for the verdict (compared with the Holm-adjusted p).
    unit : {"person", "row"}, default "person"
        ``person``: each person counts once per group, with their mean score (the months of one
        person are not independent evidence); ``row``: every rated row counts.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group``, ``n`` (people or rows), ``rows``, ``mean``, ``std``, ``diff``
        (mean minus the organisation's mean), ``diff_rest`` (mean minus the mean of everyone else),
        ``cohens_d`` (``diff_rest`` in units of the pooled spread), ``t`` and ``p`` (Welch's t-test
        of the group against the rest, which does not assume equal spreads), ``p_holm`` (adjusted
        for testing every group), ``verdict`` (lenient / harsh / in line / too few).
    """
    rows = _rows(result, on)
    rows["group"] = _groups(result, rows, by, on)
    rows = rows[rows["group"].notna()]
    if unit == "person":
        units = rows.groupby(["group", "id"], sort=False).agg(score=("score", "mean"),
                                                               rows=("score", "size")).reset_index()
    elif unit == "row":
        units = rows.assign(rows=1)
    else:
        raise CalibError(f"unit must be 'person' or 'row', not '{unit}'")
    scores = units["score"].to_numpy(dtype=float)
    org = scores.mean() if len(scores) else np.nan
    out = []
    for name, part in units.groupby("group", sort=True):
        inside = units["group"].to_numpy() == name
        x, y = scores[inside], scores[~inside]
        out.append(_two_sample(name, x, y, org) | {"rows": int(part["rows"].sum())})
    table = pd.DataFrame(out, columns=["group", "n", "rows", "mean", "std", "diff", "diff_rest",
                                       "cohens_d", "t", "p"])
    table["p_holm"] = holm(table["p"])
    table["verdict"] = _verdict(table["diff_rest"].to_numpy(), table["p_holm"].to_numpy(), alpha,
                                "lenient", "harsh")
    return table.rename(columns={"group": by})


def _two_sample(name: object, x: np.ndarray, y: np.ndarray, org: float) -> dict:
    row = {"group": name, "n": len(x), "mean": x.mean(), "std": x.std(ddof=1) if len(x) > 1 else np.nan,
           "diff": x.mean() - org, "diff_rest": x.mean() - y.mean() if len(y) else np.nan,
           "cohens_d": np.nan, "t": np.nan, "p": np.nan}
    if len(x) >= 2 and len(y) >= 2:
        pooled = np.sqrt(((len(x) - 1) * x.var(ddof=1) + (len(y) - 1) * y.var(ddof=1))
                         / (len(x) + len(y) - 2))
        row["cohens_d"] = row["diff_rest"] / pooled if pooled > 0 else np.nan
        test = stats.ttest_ind(x, y, equal_var=False)
        row["t"], row["p"] = float(test.statistic), float(test.pvalue)
    return row


# --------------------------------------------------------------------------- leniency of raters


def _rating_measures(result: Result, measure: str | None) -> dict[str, RatingMeasure]:
    found = {k: m for k, m in result.policy.measures.items() if isinstance(m, RatingMeasure)}
    if measure is None:
        return found
    if measure not in found:
        raise CalibError(f"'{measure}' is not a rating measure of the policy "
                         f"({', '.join(found) or 'none'})")
    return {measure: found[measure]}


def _rater_id_column(columns: Iterable[str], m: RatingMeasure, rater_id: str | None) -> str | None:
    columns = list(columns)
    if rater_id is not None:
        if rater_id not in columns:
            raise CalibError(f"no column '{rater_id}' in the ratings table '{m.table}'")
        return rater_id
    for name in (f"{m.rater}_id", f"{m.rater}_name", "rater_id", "rater_name"):
        if name in columns and name != m.rater:
            return name
    return None


def rater_leniency(result: Result, measure: str | None = None, alpha: float = 0.05,
                   rater_id: str | None = None) -> pd.DataFrame:
    """Raters (and rater roles) who score the same people higher or lower than the other raters.

    Only rating measures (R18: several raters score the same person in the same period) allow this
    comparison. Each rating is compared with the other ratings of the same person and period, so a
    rater who happens to rate strong people is not called lenient: only how they score *the same
    work* differently counts (a paired comparison).

    The raw deviation (``raw_deviation``) is a rating minus the mean of the other raters' ratings of
    the same person and period. When one rater is very lenient, everyone who shares people with them
    looks a little harsh on that raw measure; ``deviation`` removes this by first estimating every
    rater's own offset (a least-squares fit of "score = person-period level + rater offset") and
    comparing each rating with the others' ratings *corrected for their offsets*, measured from the
    typical (median) rater. The t-test asks whether a rater's mean ``deviation`` differs from 0.

    Parameters
    ----------
    result : calib.Result
        A run of a policy with at least one rating measure.
    measure : str, optional
        The rating measure; all of them when omitted.
    alpha : float, default 0.05
        Significance level for the verdict (compared with the Holm-adjusted p).
    rater_id : str, optional
        The ratings column naming the individual rater. By default ``<rater>_id``, ``<rater>_name``,
        ``rater_id`` or ``rater_name`` when the table has one; without it only roles are compared.

    Returns
    -------
    pandas.DataFrame
        One row per rater and per role: ``measure``, ``level`` (``rater`` or ``role``), ``rater``,
        ``role``, ``n`` (ratings compared), ``people``, ``mean_score``, ``raw_deviation``,
        ``deviation`` (points above the typical rater on the same people), ``std``, ``t``, ``p``
        (one-sample t-test of the deviations), ``p_holm`` (adjusted within the level), ``verdict``.
        Ratings of a person-period with a single rater cannot be compared and are left out.
    """
    out = []
    for name, m in _rating_measures(result, measure).items():
        ev = result.frame.events[m.table]
        frame = ev.typed.frame
        score = np.asarray(ev.column(m.score), dtype=float)
        role = frame[m.rater].astype(str).to_numpy()
        keep = (ev.row >= 0) & np.isfinite(score) & frame[m.rater].notna().to_numpy()
        base = pd.DataFrame({"pp": ev.row, "score": score, "role": role,
                             "person": frame[result.policy.inputs.id].astype(str).to_numpy()})[keep]
        id_col = _rater_id_column(frame.columns, m, rater_id)
        levels = [("role", base["role"])]
        if id_col is not None:
            levels.insert(0, ("rater", frame[id_col].astype(str)[keep]))
        for level, who in levels:
            table = _rater_offsets(base.assign(rater=who.to_numpy()), alpha)
            table.insert(0, "level", level)
            table.insert(0, "measure", name)
            out.append(table)
    columns = ["measure", "level", "rater", "role", "n", "people", "mean_score", "raw_deviation",
               "deviation", "std", "t", "p", "p_holm", "verdict"]
    return pd.concat(out, ignore_index=True)[columns] if out else pd.DataFrame(columns=columns)


def _fixed_effects(pp: np.ndarray, rater: np.ndarray, score: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Least-squares rater offsets b in score = level(person-period) + b(rater) + noise."""
    n, r = len(pp), rater.max() + 1
    n_pp = pp.max() + 1
    inc = sparse.csr_matrix((np.ones(n), (pp, rater)), shape=(n_pp, r))
    per_pp_k = np.bincount(pp, minlength=n_pp).astype(float)
    xtx = (sparse.diags(np.bincount(rater, minlength=r).astype(float))
           - inc.T @ sparse.diags(1.0 / np.maximum(per_pp_k, 1)) @ inc).toarray()
    centred = score - np.bincount(pp, weights=score, minlength=n_pp)[pp] / k
    xty = np.bincount(rater, weights=centred, minlength=r)
    return np.linalg.pinv(xtx) @ xty


def _rater_offsets(df: pd.DataFrame, alpha: float) -> pd.DataFrame:
    df = df.groupby(["pp", "rater"], sort=False).agg(score=("score", "mean"), role=("role", "first"),
                                                     person=("person", "first")).reset_index()
    k = df.groupby("pp")["rater"].transform("size").to_numpy()
    df = df[k >= 2].reset_index(drop=True)
    k = k[k >= 2]
    columns = ["rater", "role", "n", "people", "mean_score", "raw_deviation", "deviation", "std", "t",
               "p", "p_holm", "verdict"]
    if df.empty:
        return pd.DataFrame(columns=columns)
    pp = pd.factorize(df["pp"])[0]
    rater_code, raters = pd.factorize(df["rater"], sort=True)
    score = df["score"].to_numpy()
    total = np.bincount(pp, weights=score)[pp]
    raw = score - (total - score) / (k - 1)
    b = _fixed_effects(pp, rater_code, score, k)
    b = b - np.median(b)
    corrected = score - b[rater_code]
    others = (np.bincount(pp, weights=corrected)[pp] - corrected) / (k - 1)
    dev = score - others
    out = []
    for code, name in enumerate(raters):
        at = rater_code == code
        d = dev[at]
        test = stats.ttest_1samp(d, 0.0) if len(d) >= 2 and d.std() > 0 else None
        out.append({"rater": name, "role": "/".join(sorted(set(df.loc[at, "role"]))), "n": len(d),
                    "people": df.loc[at, "person"].nunique(), "mean_score": score[at].mean(),
                    "raw_deviation": raw[at].mean(), "deviation": d.mean(),
                    "std": d.std(ddof=1) if len(d) > 1 else np.nan,
                    "t": float(test.statistic) if test else np.nan,
                    "p": float(test.pvalue) if test else np.nan})
    table = pd.DataFrame(out)
    table["p_holm"] = holm(table["p"])
    table["verdict"] = _verdict(table["deviation"].to_numpy(), table["p_holm"].to_numpy(), alpha,
                                "lenient", "harsh")
    return table[columns]


# --------------------------------------------------------------------------- grades against target


def _scale(result: Result) -> list[str]:
    if result.policy.grading is None or result.grades is None:
        raise CalibError("the policy does not grade: no grade diagnostics")
    return result.policy.grading.scale.names()


def _observed_expected(result: Result, target: dict[str, float] | None) -> pd.DataFrame:
    """Long table period, grade, observed, expected (before adding the overall rows)."""
    names = _scale(result)
    if target is None:
        q = result.quotas
        if q is None or q.empty:
            raise CalibError("no forced distribution or cascade in the policy: give 'target' "
                             "(grade → share) to compare the grades with")
        t = q.groupby(["period", "grade"], sort=False).agg(observed=("count", "sum"),
                                                            expected=("exact", "sum")).reset_index()
        t["period"] = t["period"].astype(str)
        t["grade"] = t["grade"].astype(str)
        return t
    unknown = sorted(set(target) - set(names))
    if unknown:
        raise CalibError(f"target names grades not on the scale: {', '.join(unknown)}")
    total = float(sum(target.values()))
    if total <= 0:
        raise CalibError("the target shares add up to 0")
    shares = pd.Series({g: target.get(g, 0.0) / total for g in names})
    g = result.grades[result.grades["grade"].notna()]
    counts = pd.crosstab(g["period"].astype(str), g["grade"].astype(str)).reindex(columns=names,
                                                                                    fill_value=0)
    long = counts.stack().rename("observed").reset_index()
    long.columns = ["period", "grade", "observed"]
    long["expected"] = long["grade"].map(shares) * long["period"].map(counts.sum(axis=1))
    return long


def _merge_small(obs: np.ndarray, exp: np.ndarray, labels: list[str]):
    """Merge neighbouring grades (in scale order) until every expected count is at least 5."""
    cells, cur = [], [0.0, 0.0, []]
    for o, e, lab in zip(obs, exp, labels, strict=True):
        cur = [cur[0] + o, cur[1] + e, [*cur[2], lab]]
        if cur[1] >= 5:
            cells.append(cur)
            cur = [0.0, 0.0, []]
    if cur[2]:
        if cells:
            last = cells.pop()
            cur = [last[0] + cur[0], last[1] + cur[1], last[2] + cur[2]]
        cells.append(cur)
    return (np.array([c[0] for c in cells]), np.array([c[1] for c in cells]),
            [" & ".join(c[2]) for c in cells])


def _chi_square(obs: np.ndarray, exp: np.ndarray, labels: list[str], merge_small: bool) -> dict:
    notes = []
    extra = (exp <= 0) & (obs > 0)
    if extra.any():
        notes.append("given where the target is 0: " + ", ".join(np.array(labels)[extra]))
        return {"cells": int((exp > 0).sum()), "chi2": np.inf, "dof": int((exp > 0).sum()) - 1,
                "p": 0.0, "note": "; ".join(notes)}
    keep = exp > 0
    obs, exp, labels = obs[keep], exp[keep], list(np.array(labels)[keep])
    if (exp < 5).any():
        if merge_small:
            obs, exp, merged = _merge_small(obs, exp, labels)
            joined = [m for m in merged if " & " in m]
            notes.append("expected counts below 5: merged " + ", ".join(joined))
        else:
            notes.append(f"{int((exp < 5).sum())} expected counts below 5: p is approximate")
    if len(obs) < 2:
        notes.append("fewer than two grades to compare")
        return {"cells": len(obs), "chi2": np.nan, "dof": 0, "p": np.nan, "note": "; ".join(notes)}
    test = stats.chisquare(obs, exp * obs.sum() / exp.sum())
    return {"cells": len(obs), "chi2": float(test.statistic), "dof": len(obs) - 1,
            "p": float(test.pvalue), "note": "; ".join(notes)}


def distribution_vs_target(result: Result, target: dict[str, float] | None = None,
                           merge_small: bool = True, by_grade: bool = False) -> pd.DataFrame:
    """Whether the grades given match the intended distribution (a chi-square goodness-of-fit test).

    Without ``target`` the intended distribution is the policy's own: the forced distribution's or
    the cascade's ratios times the size of each group (the exact shares, before rounding), summed
    over the groups. With ``target`` (grade → share, e.g. ``{"A": 0.2, "B": 0.7, "C": 0.1}``) every
    graded row is compared with those shares, which is how to check a threshold scale against the
    distribution HR expects.

    The chi-square statistic adds up (observed − expected)² / expected over the grades; a small p
    means the grades are further from the target than chance explains. A forced distribution that
    keeps its quotas gives p close to 1. The test needs expected counts of about 5 or more: with
    ``merge_small`` neighbouring grades are merged until they are (and the note says which);
    otherwise the note warns that the p-value is approximate.

    Parameters
    ----------
    result : calib.Result
        A run of a grading policy.
    target : dict of str to float, optional
        Target share per grade (normalised to add up to 1; grades left out have share 0).
    merge_small : bool, default True
        Merge neighbouring grades with expected counts below 5.
    by_grade : bool, default False
        Return the per-grade table instead of the tests.

    Returns
    -------
    pandas.DataFrame
        Tests: one row per period and one for all periods (``(all)``): ``period``, ``graded``,
        ``cells``, ``chi2``, ``dof``, ``p``, ``largest_gap`` (the grade furthest from its target
        share, in percentage points), ``note``. With ``by_grade``: ``period``, ``grade``,
        ``observed``, ``expected``, ``observed_share``, ``target_share``, ``gap`` (observed minus
        target share).
    """
    names = _scale(result)
    long = _observed_expected(result, target)
    overall = long.groupby("grade", sort=False)[["observed", "expected"]].sum().reset_index()
    long = pd.concat([long, overall.assign(period=ALL)], ignore_index=True)
    long["grade"] = pd.Categorical(long["grade"], categories=names, ordered=True)
    long = long.sort_values(["period", "grade"], kind="stable").reset_index(drop=True)
    totals = long.groupby("period")["observed"].transform("sum")
    long["observed_share"] = long["observed"] / totals
    long["target_share"] = long["expected"] / long.groupby("period")["expected"].transform("sum")
    long["gap"] = long["observed_share"] - long["target_share"]
    if by_grade:
        long["grade"] = long["grade"].astype(str)
        return long[["period", "grade", "observed", "expected", "observed_share", "target_share", "gap"]]
    out = []
    for period, part in long.groupby("period", sort=False):
        obs = part["observed"].to_numpy(dtype=float)
        exp = part["expected"].to_numpy(dtype=float)
        gap = part["gap"].abs().to_numpy()
        worst = int(np.nanargmax(gap)) if np.isfinite(gap).any() else 0
        row = {"period": period, "graded": int(obs.sum())}
        row |= _chi_square(obs, exp, [str(g) for g in part["grade"]], merge_small)
        row["largest_gap"] = f"{part['grade'].iloc[worst]} {part['gap'].iloc[worst] * 100:+.1f} pp"
        out.append(row)
    table = pd.DataFrame(out, columns=["period", "graded", "cells", "chi2", "dof", "p", "largest_gap",
                                       "note"])
    last = table["period"] == ALL
    return pd.concat([table[~last], table[last]], ignore_index=True)


# --------------------------------------------------------------------------- parity


def _outcomes(result: Result, on: str) -> pd.DataFrame:
    rows = _rows(result, on)
    level = _level(result, on)
    if _graded_on(result) == level:
        rows = _join(rows, result.grades, ["grade"])
        rows["grade"] = pd.Series(as_text(rows["grade"]), index=rows.index, dtype=object)
    if _paid_on(result) == level:
        rows = _join(rows, result.payouts, ["payout"])
    return rows


def parity(result: Result, by: str, on: str = "period", bands: Sequence[float] | None = None,
           top: Sequence[str] | None = None, threshold: float = 0.05) -> pd.DataFrame:
    """Outcomes (score, grade, pay) by group: gender, tenure band, or any column.

    For each value of ``by`` the table gives the share of each grade, the share of top grades and
    the mean payout, with two tests over the whole table:

    - the chi-square test of independence asks whether the grade distribution differs between the
      groups more than chance explains (``grade_p``);
    - the Kruskal–Wallis test asks the same of pay (``pay_p``) and of scores (``score_p``); it
      compares rankings, so a few very large payouts do not dominate it.

    A large p (above 0.05) means no evidence of a difference, not proof of equality. A group is
    flagged when its share of top grades differs from everyone's by more than ``threshold``
    (0.05 = 5 percentage points), whatever the tests say: small groups can differ by chance, large
    ones significantly by little. Rows of the same person in different periods each count.

    Parameters
    ----------
    result : calib.Result
        A run.
    by : str
        A records or people column (``gender``, ``position``) or ``"group"``; with ``bands`` a date
        column (``hired``) turned into tenure bands.
    on : str, default "period"
        ``"period"`` or a roll-up name; grades and pay are used where they are given on that level.
    bands : sequence of float, optional
        Tenure band edges in years, e.g. ``[0, 1, 3, 5, 10]`` → 0–1, 1–3, 3–5, 5–10, 10+ years,
        measured at the end of each period.
    top : sequence of str, optional
        The grades counted as top grades (default: the best grade of the scale).
    threshold : float, default 0.05
        Flag a group whose top-grade share differs from the overall by more than this.

    Returns
    -------
    pandas.DataFrame
        One row for everyone (``(all)``) and one per group: ``group`` (named after ``by``), ``n``
        (rated rows), ``people``, ``mean_score``, ``share <grade>`` per grade, ``top_share``,
        ``top_gap`` (minus the overall), ``flag``, ``mean_pay``, ``median_pay``, and the tests
        ``grade_chi2``, ``grade_p``, ``pay_p``, ``score_p`` (the same on every row).
    """
    rows = _outcomes(result, on)
    rows["group"] = _groups(result, rows, by, on, bands)
    rows = rows[rows["group"].notna()]
    names = result.policy.grading.scale.names() if "grade" in rows else []
    tops = list(top) if top is not None else names[:1]
    groups = list(rows.groupby("group", sort=True))
    if bands is not None:
        order = {b: i for i, b in enumerate(_band_labels(bands))}
        groups.sort(key=lambda item: order.get(item[0], len(order)))
    parts = [(ALL, rows), *groups]
    table = pd.DataFrame([_parity_row(name, part, names, tops) for name, part in parts])
    if "top_share" in table:
        table["top_gap"] = table["top_share"] - table["top_share"].iloc[0]
        table["flag"] = table["top_gap"].abs() > threshold
    tests = _parity_tests(rows)
    for key, value in tests.items():
        table[key] = value
    return table.rename(columns={"group": by})


def _parity_row(name: object, part: pd.DataFrame, names: list[str], tops: list[str]) -> dict:
    row = {"group": name, "n": len(part), "people": part["id"].nunique(), "mean_score": part["score"].mean()}
    if "grade" in part:
        graded = part["grade"].dropna()
        for g in names:
            row[f"share {g}"] = (graded == g).mean() if len(graded) else np.nan
        row["top_share"] = graded.isin(tops).mean() if len(graded) else np.nan
    if "payout" in part:
        row["mean_pay"] = part["payout"].mean()
        row["median_pay"] = part["payout"].median()
    return row


def _kruskal(rows: pd.DataFrame, column: str) -> float:
    if column not in rows:
        return np.nan
    samples = [s.dropna().to_numpy(dtype=float) for _, s in rows.groupby("group")[column]]
    samples = [s for s in samples if len(s)]
    if len(samples) < 2 or len(np.unique(np.concatenate(samples))) < 2:
        return np.nan
    return float(stats.kruskal(*samples).pvalue)


def _parity_tests(rows: pd.DataFrame) -> dict:
    out = {"grade_chi2": np.nan, "grade_p": np.nan}
    if "grade" in rows:
        table = pd.crosstab(rows["group"], rows["grade"])
        table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
        if table.shape[0] >= 2 and table.shape[1] >= 2:
            test = stats.chi2_contingency(table.to_numpy())
            out = {"grade_chi2": float(test.statistic), "grade_p": float(test.pvalue)}
    out["pay_p"] = _kruskal(rows, "payout")
    out["score_p"] = _kruskal(rows, "score")
    return out


# --------------------------------------------------------------------------- small teams


def small_teams(result: Result, max_size: int = 5) -> pd.DataFrame:
    """What forced distribution (or cascaded quotas) does to groups of different sizes.

    A ratio of 20 % gives a team of 10 exactly 2 top grades, but a team of 3 gets 0.6: rounded to 1
    (33 %) or 0 (nobody). The table shows, for each group size, how far the quotas land from the
    exact shares and how often a group that should get some top grades gets none.

    Parameters
    ----------
    result : calib.Result
        A run of a policy with a forced distribution or cascade (``Result.quotas``).
    max_size : int, default 5
        Groups up to this size are marked ``small``.

    Returns
    -------
    pandas.DataFrame
        One row per group size: ``size``, ``small``, ``groups`` (group-periods), ``people``,
        ``top_target`` (mean intended share of the top grade), ``top_share`` (mean share actually
        given), ``zero_top`` (share of groups given no top grade although their ratio is above 0),
        ``abs_error`` (mean over groups of Σ |quota − exact| over the grades, in people),
        ``error_per_person`` (the same divided by the group size: the share of the group whose
        grade is set by rounding rather than by the ratios).
    """
    names = _scale(result)
    q = result.quotas
    columns = ["size", "small", "groups", "people", "top_target", "top_share", "zero_top", "abs_error",
               "error_per_person"]
    if q is None or q.empty:
        return pd.DataFrame(columns=columns)
    q = q.assign(rank=q["grade"].astype(str).map({g: i for i, g in enumerate(names)}),
                 err=(q["quota"] - q["exact"]).abs())
    per = []
    for (_, _, _), g in q.groupby(["rule", "period", "group"], sort=False):
        size = int(g["size"].iloc[0])
        pos = g[g["ratio"] > 0].sort_values("rank")
        best = pos.iloc[0] if len(pos) else g.sort_values("rank").iloc[0]
        per.append({"size": size, "top_target": best["exact"] / size, "top_share": best["count"] / size,
                    "zero_top": bool(best["ratio"] > 0 and best["count"] == 0),
                    "abs_error": g["err"].sum(), "error_per_person": g["err"].sum() / size})
    per = pd.DataFrame(per)
    out = per.groupby("size").agg(groups=("size", "size"), top_target=("top_target", "mean"),
                                  top_share=("top_share", "mean"), zero_top=("zero_top", "mean"),
                                  abs_error=("abs_error", "mean"),
                                  error_per_person=("error_per_person", "mean")).reset_index()
    out["people"] = out["size"] * out["groups"]
    out["small"] = out["size"] <= max_size
    return out[columns]


def alabama(result: Result) -> pd.DataFrame:
    """Where a group's growth by one person cost a grade a place (the Alabama paradox).

    Largest remainder (``method: hamilton``, the default) keeps each quota within one of its
    exact share, but it is not monotone in the group's size: at 5/25/60/10 % a team of 10 gets
    one top grade (exact 0.5) and a team of 11 none (exact 0.55), because the two places left
    over go to larger remainders. People in such a group may fairly ask why joining a colleague
    took a place away; ``method: webster`` never does this.

    Parameters
    ----------
    result : calib.Result
        A run of a policy with a forced distribution or cascade (``Result.quotas``).

    Returns
    -------
    pandas.DataFrame
        One row per group-period and grade flagged in the quota table's ``alabama`` column:
        ``rule``, ``period``, ``group``, ``size``, ``grade``, ``ratio``, ``exact``, ``quota``
        and ``quota_one_fewer`` (the quota the same ratios give the group with one person
        fewer, larger by construction). Empty when no quota shows it.
    """
    columns = ["rule", "period", "group", "size", "grade", "ratio", "exact", "quota",
               "quota_one_fewer"]
    q = result.quotas
    if q is None or q.empty or "alabama" not in q:
        return pd.DataFrame(columns=columns)
    if not q["alabama"].any():
        return pd.DataFrame(columns=columns)
    grading = result.policy.grading
    assert grading is not None, "quota tables come from grading rules"
    k = len(grading.scale.names())  # the table holds each group's grades in k rows in a row
    fewer = np.zeros(len(q), dtype=np.int64)
    for start in np.unique(np.flatnonzero(q["alabama"].to_numpy(dtype=bool)) // k) * k:
        g = q.iloc[start:start + k]
        rule = grading.rules[str(g["rule"].iloc[0])]
        settings = rule.forced or rule.cascade
        assert settings is not None, "a quota table comes from a forced or cascade rule"
        size = int(g["size"].iloc[0])
        ratios = g["ratio"].to_numpy(dtype=np.float64)[None, :]
        fewer[start:start + k] = apportion(np.array([size - 1]), ratios, settings.method)[0]
    out = q.assign(quota_one_fewer=fewer)[q["alabama"].to_numpy(dtype=bool)]
    return out[columns].reset_index(drop=True)


# --------------------------------------------------------------------------- inflation


def inflation(result: Result, on: str = "period", by_period: bool = False,
              alpha: float = 0.05) -> pd.DataFrame:
    """Score inflation: whether mean scores, top-grade shares and pay drift up over time.

    A straight line is fitted through the per-period values (least squares, ``scipy.stats.linregress``)
    against time in years. The slope is the average change per year (points of score, share of top
    grades, money); its p-value asks whether a slope this steep could come from year-to-year noise
    alone. Seasonal schemes can show a slope over a short history that is only the season: read it
    with the per-period table (``by_period=True``).

    Parameters
    ----------
    result : calib.Result
        A run.
    on : str, default "period"
        ``"period"`` or a roll-up name (``"quarter"``, ``"year"``).
    by_period : bool, default False
        Return the per-period values instead of the trends.
    alpha : float, default 0.05
        Significance level for the verdict.

    Returns
    -------
    pandas.DataFrame
        Trends: one row per metric (``mean_score``, ``top_share`` where grades are given on this
        level, ``mean_pay`` where pay is): ``metric``, ``periods``, ``first``, ``last`` (the values at
        the first and last period), ``slope_per_year``, ``p``, ``r2``, ``verdict`` (rising /
        falling / flat). With ``by_period``: ``period``, ``years`` (since the first period), ``n``,
        ``mean_score``, ``std``, ``top_share``, ``mean_pay``.
    """
    rows = _outcomes(result, on)
    if "grade" in rows:
        best = result.policy.grading.scale.names()[0]
        rows["top"] = np.where(rows["grade"].isna(), np.nan, (rows["grade"] == best).astype(float))
    agg = {"n": ("score", "size"), "mean_score": ("score", "mean"), "std": ("score", "std")}
    if "top" in rows:
        agg["top_share"] = ("top", "mean")
    if "payout" in rows:
        agg["mean_pay"] = ("payout", "mean")
    per = rows.groupby("period", sort=True).agg(**agg).reset_index()
    per.insert(1, "years", _years(per["period"]))
    per = per.sort_values("years", kind="stable").reset_index(drop=True)
    if by_period:
        return per
    out = []
    for metric in [c for c in ("mean_score", "top_share", "mean_pay") if c in per]:
        ok = per[metric].notna()
        x, y = per.loc[ok, "years"].to_numpy(), per.loc[ok, metric].to_numpy(dtype=float)
        row = {"metric": metric, "periods": len(x), "first": y[0] if len(y) else np.nan,
               "last": y[-1] if len(y) else np.nan, "slope_per_year": np.nan, "p": np.nan, "r2": np.nan}
        if len(x) >= 3 and np.ptp(x) > 0 and np.ptp(y) == 0:  # constant (a forced top share)
            row |= {"slope_per_year": 0.0, "p": 1.0, "r2": 0.0}
        elif len(x) >= 3 and np.ptp(x) > 0:
            fit = stats.linregress(x, y)
            row |= {"slope_per_year": fit.slope, "p": fit.pvalue, "r2": fit.rvalue ** 2}
        out.append(row)
    table = pd.DataFrame(out, columns=["metric", "periods", "first", "last", "slope_per_year", "p", "r2"])
    table["verdict"] = [("too few" if np.isnan(p) else "flat" if p >= alpha else
                         "rising" if s > 0 else "falling")
                        for s, p in zip(table["slope_per_year"], table["p"], strict=True)]
    return table


# --------------------------------------------------------------------------- report


def _people_columns(result: Result) -> dict[str, str]:
    people = result.policy.inputs.people
    return {name: col.type for name, col in people.columns.items()} if people is not None else {}


def report(result: Result, by: Sequence[str] | None = None, parity_by: Sequence[str] | None = None,
           hired: str | None = "hired", bands: Sequence[float] = (0, 1, 3, 5, 10),
           alpha: float = 0.05) -> dict[str, pd.DataFrame]:
    """Every diagnostic that applies to the policy, as a dict of tables.

    Parameters
    ----------
    result : calib.Result
        A run.
    by : sequence of str, optional
        Columns for :func:`group_leniency` (default: the quota ``group`` when the policy has one,
        and the people text columns with 2–50 values other than ``gender``, the columns the
        policy groups by first: ``calib.policy.groups.grouping_columns``).
    parity_by : sequence of str, optional
        Columns for :func:`parity` (default: ``gender`` when present).
    hired : str or None, default "hired"
        The hire-date column for tenure-band parity (skipped when absent).
    bands : sequence of float, default (0, 1, 3, 5, 10)
        Tenure band edges in years.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    dict of str to pandas.DataFrame
        Keys: ``leniency <column>``, ``raters``, ``distribution``, ``distribution by grade``,
        ``small teams``, ``alabama``, ``parity <column>``, ``parity tenure``, ``inflation``,
        ``inflation by period`` — those that apply.
    """
    types = _people_columns(result)
    graded = _graded_on(result)
    out: dict[str, pd.DataFrame] = {}
    if by is None:
        by = []
        if graded is not None and result.grades["group"].notna().any():
            by.append("group")
        people = result.frame.people.frame if result.frame.people is not None else pd.DataFrame()
        policy = result.policy  # the policy's own groups first (calib.policy.groups)
        order = dict.fromkeys([*grouping_columns(policy), *people_text_columns(policy)])
        by += [c for c in order if types.get(c) in ("text", "label") and c != "gender"
               and c in people and 2 <= people[c].nunique() <= 50]
    on = graded or "period"
    for col in by:
        out[f"leniency {col}"] = group_leniency(result, col, on="period" if col != "group" else on,
                                                alpha=alpha)
    if _rating_measures(result, None):
        out["raters"] = rater_leniency(result, alpha=alpha)
    if graded is not None and result.quotas is not None and not result.quotas.empty:
        out["distribution"] = distribution_vs_target(result)
        out["distribution by grade"] = distribution_vs_target(result, by_grade=True)
        out["small teams"] = small_teams(result)
        out["alabama"] = alabama(result)
    if parity_by is None:
        parity_by = [c for c in ("gender",) if c in types]
    for col in parity_by:
        out[f"parity {col}"] = parity(result, col, on=on)
    if hired and types.get(hired) in ("date", "datetime"):
        out["parity tenure"] = parity(result, hired, on=on, bands=bands)
    out["inflation"] = inflation(result, alpha=alpha)
    out["inflation by period"] = inflation(result, by_period=True)
    return out
