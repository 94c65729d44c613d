"""From measures to KPI points, sections and each person-period's score (SCHEMES.md R5–R19).

NaN marks an excluded item; a section re-weights over what is present, and a section whose items
are all excluded is itself excluded. Every exclusion comes from an explicit ``exclude`` choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from calib._util.memo import array_key, footprint, json_key, object_slot, replace
from calib.engine.frame import Frame, RowBlock, RowSubset
from calib.engine.measures import KERNELS, row_local
from calib.engine.missing import apply_missing
from calib.kernels.conditions import holds
from calib.kernels.dispatch import score_values
from calib.kernels.labels import label_points
from calib.policy.rules import LabelPoints
from calib.policy.scoring import Kpi, Section


def kpi_value(name: str, kpi: Kpi, frame: Frame | RowBlock, measures: dict[str, np.ndarray],
              active: np.ndarray) -> np.ndarray:
    """The KPI's input value per row, with its ``on_missing`` choice applied."""
    if kpi.measure is not None:
        values = measures[kpi.measure]
    else:
        assert kpi.column is not None, "a KPI has a measure or a column (Kpi._one_source)"
        values = np.asarray(frame.column(kpi.column), dtype=np.float64)
    return apply_missing(values, np.isnan(values), kpi.on_missing, kpi.neutral,
                         f"KPI '{name}'", "missing value", frame, active)


def kpi_points(frame: Frame | RowBlock, measures: dict[str, np.ndarray],
               active: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Points of every KPI per row (NaN where the KPI is excluded).

    ``active`` says, per KPI, which rows are rated with a scorecard that uses it: only there does
    an ``error`` choice for a missing value stop the run.
    """
    return {name: kpi_points_one(name, kpi, frame, measures, active[name])
            for name, kpi in frame.policy.kpis.items()}


def kpi_points_one(name: str, kpi: Kpi, frame: Frame | RowBlock, measures: dict[str, np.ndarray],
                   active: np.ndarray) -> np.ndarray:
    """Points of one KPI per row (NaN where excluded)."""
    if isinstance(kpi.rule, LabelPoints):
        assert kpi.column is not None, "a labels rule reads a column (policy references check)"
        points, unknown = label_points(frame.column(kpi.column), kpi.rule)
        return apply_missing(points, unknown, kpi.rule.on_unknown, kpi.rule.neutral,
                             f"KPI '{name}'", "unknown or empty label", frame, active)
    return score_values(kpi_value(name, kpi, frame, measures, active), kpi.rule)


def _combine(sec: Section, parts: list[np.ndarray], n: int, kept: list[bool] | None = None
             ) -> np.ndarray:
    if not parts:
        return np.full(n, np.nan)
    if sec.combine in ("weighted", "sum"):
        return _combine_loop(sec, parts, n, kept)
    stack = np.column_stack(parts)
    present = ~np.isnan(stack)
    if sec.combine == "mean":  # a row with nothing present is 0 / 0: NaN
        with np.errstate(invalid="ignore"):
            out = np.where(present, stack, 0.0).sum(axis=1) / present.sum(axis=1)
    else:
        neutral = 1.0 if sec.combine == "product" else np.inf
        filled = np.where(present, stack, neutral)
        out = filled.prod(axis=1) if sec.combine == "product" else filled.min(axis=1)
        out[~present.any(axis=1)] = np.nan
    return np.round(out, 9)


def _combine_loop(sec: Section, parts: list[np.ndarray], n: int,
                  kept: list[bool] | None = None) -> np.ndarray:
    """A weighted or summed section, part by part, in the parts' order. A part's term — its
    points times the weight, 0 where excluded — and the weight present on each row (None:
    every row) come from ``_term``; for parts that are ``kept`` (a ``Scenario``'s KPI points,
    the same arrays on every move) they are remembered, so a KPI slider computes only the moved
    KPI's term and adds the others'.
    """
    weighted = sec.combine == "weighted"
    total = np.zeros(n)
    present: float | np.ndarray = 0.0
    anyp: bool | np.ndarray = False
    for p, w, keep in zip(parts, _weights(sec, len(parts)), kept or [False] * len(parts),
                          strict=True):
        term, where = (_kept_term if keep else _term)(p, w)
        total += term
        if weighted:
            assert w is not None
            if where is None:
                present = present + w
            elif isinstance(present, float):
                present = where + present  # where + 0.0: the same numbers as 0.0 + where
            else:
                present += where
        elif where is None:
            anyp = True
        elif anyp is False:
            anyp = where.copy()
        elif anyp is not True:
            anyp |= where
    if weighted:
        if isinstance(present, float) and present <= 0:
            return np.full(n, np.nan)
        total /= 100.0
        with np.errstate(divide="ignore", invalid="ignore"):
            total *= sec.total_weight / present
        if not isinstance(present, float):
            total[present <= 0] = np.nan
    else:
        total += sec.base
        if anyp is not True:
            total[~anyp] = np.nan
    return np.round(total, 9, out=total)


def _weights(sec: Section, n_parts: int) -> Iterable[float | None]:
    """Each part's weight in a weighted section; None for each part of another section."""
    if sec.combine != "weighted":
        return [None] * n_parts
    assert sec.weights is not None, "a weighted section has weights (Section._shape)"
    return sec.weights.values()


def _term(points: np.ndarray, weight: float | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``points × weight`` (``points`` when ``weight`` is None), 0 where the points are NaN;
    and where points are present: the weight there (a float column) or, with no weight, a mask
    — None when every row is present.

    Adding 0 for an excluded row gives the same total as skipping it: a running total that
    starts at +0 is never −0.
    """
    term = points if weight is None else points * weight
    if np.isfinite(points.sum()):
        return term, None
    ok = np.equal(points, points)
    term = np.where(ok, term, 0.0)
    return term, (ok if weight is None else ok * weight)


def _kept_term(points: np.ndarray, weight: float | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``_term``, remembered while that very array of points lives (kept points are never
    changed in place).
    """
    slot = object_slot(points)
    term = slot.get(("term", weight))
    if term is None:
        term = slot[("term", weight)] = _term(points, weight)
    return term


def section_scores(frame: Frame | RowSubset, points: dict[str, np.ndarray], kept: bool = False
                   ) -> dict[str, np.ndarray]:
    """Every section, children first; clip to [min, max]; a veto sets the section to 0.

    ``kept``: the arrays of ``points`` are a ``Scenario``'s kept KPI points, which the next
    move passes again (their terms are remembered, see ``_combine_loop``).
    """
    done: dict[str, np.ndarray] = {}
    for name in frame.policy.sections:
        _section(name, frame, points, kept, done)
    return done


def _section(name: str, frame: Frame | RowSubset, points: dict[str, np.ndarray], kept: bool,
             done: dict[str, np.ndarray]) -> np.ndarray:
    """One section's scores (its children first), remembered in ``done``. A function of its
    own, not a closure calling itself: that closure would be a reference cycle holding the
    frame until the garbage collector's next full pass.
    """
    if name in points:
        return points[name]
    if name not in done:
        sec = frame.policy.sections[name]
        children = sec.children()
        out = _combine(sec, [_section(c, frame, points, kept, done) for c in children], frame.n,
                       [kept and c in points for c in children])
        if sec.min is not None:
            out = np.maximum(out, sec.min)
        if sec.max is not None:
            out = np.minimum(out, sec.max)
        for veto in sec.vetoes:
            out = np.where(holds(veto.when, frame.column(veto.when.column)), 0.0, out)
        done[name] = out
    return done[name]


def score_rows(frame: Frame, kept: dict | None = None) -> tuple[
        dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Measures, KPI points and section scores of every row.

    Measures that read event tables or groups are computed over all rows first; everything
    row-local is then computed block by block, so temporaries stay in the CPU cache. With
    ``kept`` (a ``Scenario``'s), each measure and KPI and the sections are found under the policy
    part they come from and computed only when missing (a KPI slider re-scores that KPI and the
    sections); ``kept`` then holds exactly what this run used.
    """
    policy = frame.policy
    keys = {} if kept is None else _part_keys(frame)
    found = {k: kept[key] for k, key in keys.items() if key in kept} if kept is not None else {}
    measures: dict[str, np.ndarray | None] = {name: found.get(("measure", name))
                                              for name in policy.measures}
    for name, m in policy.measures.items():
        if measures[name] is None and not row_local(m):
            measures[name] = KERNELS[type(m)](m, name, frame)
    points: dict[str, np.ndarray | None] = {name: found.get(("kpi", name))
                                            for name in policy.kpis}
    sections = found.get(("sections",))
    local = {k: np.empty(frame.n) for k, v in measures.items() if v is None}
    todo: dict[str, np.ndarray | None] = {k: None for k, v in points.items() if v is None}
    before = (_last_run(frame, keys) if kept is not None and sections is None
              and frame.n >= DELTA_ROWS else None)
    made = ({k: np.empty(frame.n) for k in policy.sections}
            if sections is None and before is None else None)
    if local or todo or made is not None:
        _row_local(frame, measures, points, local, todo, made, kept is not None)
    measures.update(local)
    points.update(todo)
    measured, pointed = _all_made(measures), _all_made(points)
    if before is not None:  # the sections again only where some KPI's points moved
        sections = _sections_where_moved(frame, pointed, *before)
    elif made is not None:
        sections = made
    assert sections is not None, "kept, combined again where moved, or made"
    if kept is not None:  # only what this run used: a slider would grow it forever
        kept.clear()
        kept.update({keys[("measure", k)]: measured[k] for k in policy.measures})
        kept.update({keys[("kpi", k)]: pointed[k] for k in policy.kpis})
        kept[keys[("sections",)]] = sections
        if frame.n >= DELTA_ROWS and frame.memo is not None:
            # this run's points and sections, for the next run on these rows (which may be
            # another move of the same slider): counted by its sections, as the points are
            # the kept arrays
            replace(frame.memo, ("sections before",), (keys[("sections",)], pointed, sections),
                    size=lambda entry: footprint(entry[2]))
    return measured, pointed, sections


def _all_made(columns: dict[str, np.ndarray | None]) -> dict[str, np.ndarray]:
    """``columns`` once this run has made every one of them (none is left None)."""
    out: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        assert values is not None, f"'{name}' was neither kept nor computed"
        out[name] = values
    return out


def _row_local(frame: Frame, measures: Mapping[str, np.ndarray | None],
               points: Mapping[str, np.ndarray | None], local: dict[str, np.ndarray],
               todo: dict[str, np.ndarray | None], made: dict[str, np.ndarray] | None,
               scenario: bool) -> None:
    """Fill the row-local measures (``local``), the KPI points to compute (``todo``: made here,
    from None) and, when asked (``made``), the sections, block by block. In a ``scenario`` run
    on one block the KPI points are the kept arrays themselves, which the next move passes
    again.
    """
    policy = frame.policy
    blocks = frame.blocks()
    whole = scenario and len(blocks) == 1
    for block in blocks:
        rows = slice(block.start, block.stop)
        values = {k: v[rows] for k, v in measures.items() if v is not None}
        for k in local:
            values[k] = local[k][rows] = KERNELS[type(policy.measures[k])](
                policy.measures[k], k, block)
        part = {k: v if whole else v[rows] for k, v in points.items() if v is not None}
        for k in todo:
            new = kpi_points_one(k, policy.kpis[k], block, values, block.active[k])
            if whole:  # the kernel's own array is kept (no column to copy it into)
                part[k] = todo[k] = np.ascontiguousarray(new, dtype=np.float64)
            else:
                column = todo[k]
                if column is None:
                    column = todo[k] = np.empty(frame.n)
                part[k] = column[rows] = new
        if made is not None:
            for k, v in section_scores(block, part, kept=whole).items():
                made[k][rows] = v


DELTA_ROWS = 32_768
"""From this many rows a re-run recomputes a row-wise stage (the sections; row-wise pay
components) only on the rows whose inputs moved (below it, every row costs less than finding
them)."""
DELTA_SHARE = 1 / 8
"""... and only when fewer than this share of the rows moved (else every row again)."""


def _last_run(frame: Frame, keys: dict[tuple, tuple]) -> tuple[dict, dict] | None:
    """The sections and KPI points of the last scenario run on ``frame``'s rows — the slider's
    previous position, whichever scenario it came from — when its sections had the same policy
    parts as now (only KPIs changed); None otherwise.
    """
    last = frame.memo.get(("sections before",)) if frame.memo is not None else None
    if last is None:
        return None
    then, now = last[0], keys[("sections",)]
    if then[1] != now[1] or then[3] != now[3]:
        return None
    return last[2], last[1]


def _sections_where_moved(frame: Frame, points: dict[str, np.ndarray],
                          sections: dict[str, np.ndarray], old_points: dict[str, np.ndarray]
                          ) -> dict[str, np.ndarray]:
    """The sections from ``points``, given the previous run's ``sections`` of ``old_points``:
    sections are row by row, so only the rows where some KPI's points moved are combined again
    (a tier slider moves a few hundred of 120,000 rows); every row when many moved.
    """
    moved = np.zeros(frame.n, dtype=bool)
    for name, new in points.items():
        old = old_points.get(name)
        if old is None or len(old) != frame.n:
            return _sections_blocked(frame, points)
        if old is not new:
            moved |= differ(new, old)
    rows = np.flatnonzero(moved)
    if len(rows) >= DELTA_SHARE * frame.n:
        return _sections_blocked(frame, points)
    out = {k: v.copy() for k, v in sections.items()}
    if len(rows):
        subset = RowSubset(frame, rows)
        for k, v in section_scores(subset, {k: p[rows] for k, p in points.items()}).items():
            out[k][rows] = v
    return out


def differ(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Where two float columns differ, NaN equal to NaN: bit for bit in one pass (a −0 in place
    of a 0 counts as a change, which only means one more row combined again).
    """
    if new.dtype == old.dtype == np.float64 and new.flags.c_contiguous and old.flags.c_contiguous:
        return new.view(np.int64) != old.view(np.int64)
    return (new != old) & ~(np.isnan(new) & np.isnan(old))


def _sections_blocked(frame: Frame, points: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every section of every row, block by block."""
    out = {k: np.empty(frame.n) for k in frame.policy.sections}
    _row_local(frame, {}, points, {}, {}, out, scenario=False)
    return out


def _part_keys(frame: Frame) -> dict[tuple, tuple]:
    """Under which key a ``Scenario`` keeps each measure, KPI and the sections: the policy parts
    they are computed from (and, for a KPI, the rows that use it).
    """
    policy = frame.policy
    keys: dict[tuple, tuple] = {("measure", name): ("measure", name, json_key(m))
                                for name, m in policy.measures.items()}
    for name, kpi in policy.kpis.items():
        source = json_key(policy.measures[kpi.measure]) if kpi.measure else ""
        keys[("kpi", name)] = ("kpi", name, json_key(kpi), source, array_key(frame.active[name]))
    keys[("sections",)] = ("sections", tuple(json_key(s) for s in policy.sections.values()),
                           tuple(keys[("kpi", k)] for k in policy.kpis), tuple(policy.sections))
    return keys
