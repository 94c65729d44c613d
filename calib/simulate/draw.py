"""Drawing a block of Monte Carlo scenarios (``calib.simulate.monte_carlo``): turnover windows, bootstrapped
months (rated or not, with their proration shares), group effects and noise, then the graded and
paid populations (periods or roll-ups).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import DTypeLike

from calib.simulate.model import _Model, _Pop


@dataclass
class _Draw:
    """One block's populations: per ``on``, score, rated and veto arrays of (c·periods, slots)."""

    c: int
    scores: dict[str, np.ndarray]
    rated: dict[str, np.ndarray]
    veto: dict[str, np.ndarray | None]
    joiners: np.ndarray
    leavers: np.ndarray
    partial: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.int64),) * 2
    """(scenario, slot) pairs, sorted and distinct, whose window is not the whole year or who miss
    a month: every person-period not rated, in any population, is in one of them."""
    share: dict[str, np.ndarray | None] = field(default_factory=dict)
    """Per ``on``, like ``scores``: each person-period's proration share (float64, the engine's
    share of the historical month bootstrapped for the score, in [0, 1]; only meaningful where
    rated), or None when the policy has no proration or for a roll-up (not prorated)."""


class _Workspace:
    """Arrays reused from block to block (one per thread): a fresh multi-megabyte array per block
    costs its page faults and zeroing every time, more than the arithmetic on it.

    Each name is one buffer that grows to the largest request; ``get`` returns a view of it, so
    two arrays alive at once need two names.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
        """An uninitialised array of ``shape`` and ``dtype``, the same memory on every call."""
        dtype = np.dtype(dtype)
        size = math.prod(shape) * dtype.itemsize
        buf = self.arrays.get(name)
        if buf is None or buf.size < size:
            buf = self.arrays[name] = np.empty(max(size, 1), dtype=np.uint8)
        return buf[:size].view(dtype).reshape(shape)


_RAW_CHUNK = 8192
"""Random 64-bit words drawn per call (64 kB): big temporaries cost page faults, see ``_Workspace``."""


def _uniform_index(rng: np.random.Generator, count: np.ndarray, offset: np.ndarray,
                   rows: int, out: np.ndarray | None = None) -> np.ndarray:
    """(rows, len(count)) indices: offset + ⌊u·count/2¹⁶⌋ with u 16 random bits (four to a
    64-bit word of the bit generator, drawn in chunks: the same words as in one call).
    """
    if out is None:
        out = np.empty((rows, len(count)), dtype=np.int64)
    idx = np.multiply(_random_16(rng, out), count, out=out)
    np.right_shift(idx, 16, out=idx)
    np.add(idx, offset, out=idx)
    return idx


def _joint_index(rng: np.random.Generator, m: _Model, rows: int, out: np.ndarray,
                 ws: _Workspace) -> np.ndarray:
    """(rows, slots) bootstrapped month indices into ``out`` (int64) and whether each month is
    rated (bool, in ``ws``), both from one draw of 16 random bits u per month and slot: below the
    slot's ``cut`` the month is not rated (its index then points at some month, to be read
    with ``mode="wrap"`` and ignored), else it is the slot's rated month ⌊(u · mult + base) /
    2³²⌋ (``calib.simulate.model._cuts``): not rated with the slot's rate, and each rated month
    equally likely (up to a relative count/(2¹⁶ − cut)).
    """
    cut, mult, base = m.cut, m.mult, m.base
    assert cut is not None and mult is not None and base is not None, (
        "only with absences (m.cut set), and ``_cuts`` gives cut, mult and base together")
    u = _random_16(rng, out)
    rated = np.greater_equal(u, cut, out=ws.get("present", out.shape, bool))
    u *= mult
    u += base
    u >>= 32
    return rated


def _random_16(rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
    """Fill the int64 array ``out`` with 16 random bits per element (four to a 64-bit word of
    the bit generator, drawn in chunks: the same words as in one call).
    """
    flat = out.reshape(-1)
    n = len(flat)
    for a in range(0, (n + 3) // 4, _RAW_CHUNK):
        words = min(_RAW_CHUNK, (n + 3) // 4 - a)
        bits = rng.bit_generator.random_raw(words).view(np.uint16)[:n - 4 * a]
        flat[4 * a:4 * a + len(bits)] = bits  # then int64 × int64: faster than mixed types
    return out


def _normal_quantiles() -> np.ndarray:
    """The standard normal's 65,536 quantiles at (i + ½)/65,536, scaled to variance exactly 1:
    a draw of 16 random bits picks one (the tails stop at ±4.32).
    """
    from scipy.special import ndtri

    q = ndtri((np.arange(2**16) + 0.5) / 2**16)
    q = (q - q[::-1]) / 2  # exactly symmetric: the noise has mean 0 to the last bit
    return q / math.sqrt(float(np.mean(q * q)))


_QUANTILES: np.ndarray | None = None


def _noise(rng: np.random.Generator, out: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Standard normal noise into ``out`` (float64), ``index`` an int64 buffer of its shape: one of
    the normal's 65,536 quantiles per element, picked by 16 random bits — five times faster than
    ``standard_normal`` (the noise of a monthly simulation is the largest random stream), and
    the same distribution for a payout simulation (quantiles exact to 2⁻¹⁶, tails cut at ±4.32σ).
    """
    global _QUANTILES
    if _QUANTILES is None:
        _QUANTILES = _normal_quantiles()
    return np.take(_QUANTILES, _random_16(rng, index), out=out, mode="wrap")  # all in range


def _inverse(order: np.ndarray) -> np.ndarray:
    """Each row's inverse permutation (the rank of each element): ``argsort`` of a permutation,
    without sorting.
    """
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(order.shape[1], dtype=order.dtype)[None, :], axis=1)
    return rank


def _windows(m: _Model, rng: np.random.Generator, c: int, ws: _Workspace
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per scenario and slot: first records month, first rated month, end (exclusive), in
    ``ws``; and the joiners and leavers per scenario.
    """
    M, n_cur, n_slots = m.months, m.n_current, m.n_slots
    rec = ws.get("window.records", (c, n_slots), np.int64)
    rec[...] = 0
    end = ws.get("window.end", (c, n_slots), np.int64)
    if m.leave_rate > 0:
        for i in range(c):  # row by row: the same draws as one call, without a big temporary
            end[i] = rng.geometric(m.leave_rate, n_slots)
        np.minimum(end, M, out=end)
    else:
        end[...] = M
    n_join = n_slots - n_cur
    joined = np.zeros(c, dtype=np.int64)
    if n_join:
        joined = np.minimum(rng.poisson(m.hire_lambda * M, c), n_join)
        rank = _inverse(np.argsort(rng.random((c, n_join)), axis=1))
        month = rng.integers(0, M, (c, n_join))
        active = rank < joined[:, None]
        rec[:, n_cur:] = np.where(active, month, M)
        end[:, n_cur:] = np.where(active, np.minimum(month + end[:, n_cur:], M), M)
    start = ws.get("window.start", (c, n_slots), np.int64)
    np.copyto(start, rec)
    start[:, n_cur:] = np.minimum(rec[:, n_cur:] + m.probation, M)
    np.minimum(start, end, out=start)
    leavers = (end[:, :n_cur] < M).sum(axis=1)
    return rec, start, end, joined, leavers


def _rated_months(start: np.ndarray, end: np.ndarray, M: int, ws: _Workspace) -> np.ndarray:
    """(c·M, slots): whether each month is in the slot's rated window [start, end), in ``ws``."""
    c, N = start.shape
    month = np.arange(M)[None, :, None]
    rated = np.greater_equal(month, start[:, None, :], out=ws.get("rated", (c, M, N), bool))
    rated &= np.less(month, end[:, None, :], out=ws.get("rated.end", (c, M, N), bool))
    return rated.reshape(c * M, N)


def _cumsum0(v: np.ndarray) -> np.ndarray:
    """Cumulative sum over months with a zero first row: (c, M, N) → (c, M+1, N)."""
    out = np.zeros((v.shape[0], v.shape[1] + 1, v.shape[2]), dtype=np.float64)
    np.cumsum(v, axis=1, out=out[:, 1:])
    return out


def _draw(m: _Model, rng: np.random.Generator, c: int, ws: _Workspace | None = None) -> _Draw:
    """Draw ``c`` scenarios: turnover windows, months (rated or not), group effects, noise;
    then populations.
    """
    M, N = m.months, m.n_slots
    ws = ws or _Workspace()
    if m.turnover:
        rec, start, end, joined, leavers = _windows(m, rng, c, ws)
    else:
        rec = start = np.zeros((c, N), dtype=np.int64)
        end = np.full((c, N), M, dtype=np.int64)
        joined = leavers = np.zeros(c, dtype=np.int64)
    idx, present, v, share, veto = _months(m, rng, c, ws)
    effects = None  # the block's γ per month and group (c·M, groups), and each slot's group
    if m.effects is not None:
        gidx = _uniform_index(rng, m.effects.count, m.effects.offset, c * M)
        effects = (m.effects.gamma.take(gidx), m.effects.slot)
    need_months = "period" in m.pops
    if need_months:
        tmp = ws.get("tmp", (c * M, N), np.float64)
        if effects is not None:
            gv, group = effects
            v += gv.take(group, axis=1, out=tmp, mode="wrap")  # all in range
        if m.sd > 0:
            z = _noise(rng, tmp, idx.reshape(c * M, N))  # the bootstrap is done with idx
            z *= m.sd
            v += z
        np.clip(v, m.lo, m.hi, out=v)
    rated = None  # (c·M, slots): in the window and not missed, with absences (else found later)
    if present is not None:
        rated = _period_rated(m, start, end, present, ws)
        if veto is not None:
            veto &= rated.reshape(c, M, N)  # a month not rated is not vetoed
        if any(pop.k > 1 for pop in m.pops.values()):
            v *= rated  # roll-ups sum the months of each period: 0 where not rated
    v = v.reshape(c, M, N)
    out = _Draw(c, {}, {}, {}, joined, leavers)
    out.partial = _partial_pairs(m, start, end, present)
    for on, pop in sorted(m.pops.items()):
        out.share[on] = None
        if pop.k == 1:
            out.scores[on] = v.reshape(c * M, N)
            out.rated[on] = rated if rated is not None else _period_rated(m, start, end, None, ws)
            out.veto[on] = veto.reshape(c * M, N) if veto is not None else None
            out.share[on] = share
            continue
        _roll(m, rng, pop, out, v, veto, effects, need_months, (rec, start, end), ws, rated)
    return out


def _months(m: _Model, rng: np.random.Generator, c: int, ws: _Workspace
            ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None,
                       np.ndarray | None]:
    """The bootstrapped months of ``c`` scenarios, (c·M, slots) each, in ``ws``: their indices
    into the histories, whether they are rated if in the window (None without absences),
    scores, proration shares (None without proration or a period population) and vetoes
    ((c, M, slots), None without vetoes).
    """
    M, N = m.months, m.n_slots
    idx = ws.get("idx", (c * M, N), np.int64)
    present = None
    if m.cut is None:
        _uniform_index(rng, m.count, m.offset, c * M, idx)
    else:
        present = _joint_index(rng, m, c * M, idx, ws)
    v = m.flat.take(idx, out=ws.get("v", (c * M, N), np.float64), mode="wrap")  # all in range
    share = None
    if m.share_flat is not None and "period" in m.pops:
        share = m.share_flat.take(idx, out=ws.get("share", (c * M, N), np.float64), mode="wrap")
    veto = (m.veto_flat.take(idx, mode="wrap").reshape(c, M, N) if m.veto_flat is not None
            else None)
    return idx, present, v, share, veto


def _period_rated(m: _Model, start: np.ndarray, end: np.ndarray, present: np.ndarray | None,
                  ws: _Workspace) -> np.ndarray:
    """(c·M, slots): whether each month is rated: in the slot's window and, with absences,
    not missed (``present``).
    """
    c, N = start.shape
    if not m.turnover:
        return present if present is not None else np.ones((c * m.months, N), dtype=bool)
    rated = _rated_months(start, end, m.months, ws)
    if present is not None:
        rated &= present
    return rated


def _partial_pairs(m: _Model, start: np.ndarray, end: np.ndarray, present: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The (scenario, slot) pairs whose window is not the whole year or who miss a month (not
    ``present``), sorted and distinct.
    """
    c, N = start.shape
    M = m.months
    if not m.turnover and present is None:
        return (np.zeros(0, dtype=np.int64),) * 2
    flag = (start > 0) | (end < M) if m.turnover else np.zeros((c, N), dtype=bool)
    if present is not None:
        flag |= ~np.logical_and.reduce(present.reshape(c, M, N), axis=1)
    flat = np.flatnonzero(flag)  # (faster than a 2-d ``nonzero``)
    return flat // N, flat % N


def _partial(v: np.ndarray, start: np.ndarray, end: np.ndarray, P: int, k: int, full: np.ndarray,
             how: str = "sum") -> None:
    """Replace, in ``full`` (c, P, N), the sums over each period of the (scenario, slot) pairs
    whose window [start, end) is not the whole year (leavers, joiners): few pairs, so this costs
    far less than masking every month.
    """
    M = v.shape[1]
    s, i = np.nonzero((start > 0) | (end < M))
    if len(s) == 0:
        return
    sub = v[s, :, i]  # (pairs, M)
    month = np.arange(M)
    mask = (month >= start[s, i][:, None]) & (month < end[s, i][:, None])
    if how == "any":
        full[s, :, i] = np.logical_and(sub, mask, out=mask).reshape(-1, P, k).any(axis=2)
    else:
        full[s, :, i] = np.multiply(sub, mask, out=sub).reshape(-1, P, k).sum(axis=2)


def _roll(m: _Model, rng: np.random.Generator, pop: _Pop, out: _Draw, v: np.ndarray,
          veto: np.ndarray | None, effects: tuple[np.ndarray, np.ndarray] | None, noisy: bool,
          windows: tuple[np.ndarray, np.ndarray, np.ndarray], ws: _Workspace,
          rated: np.ndarray | None = None) -> None:
    """A roll-up population from the block's months (means over each period's rated months);
    its arrays live in ``ws``. ``effects``: the block's group effects (see ``_draw``), or None.
    ``rated``: with absences, whether each month is rated (then ``v`` is 0 and ``veto`` False
    where it is not), else None (the windows say).
    """
    assert pop.other_sum is not None and pop.other_weight is not None, (
        "a roll-up population: ``_rollup_pop`` sets its other parts")
    P, k = pop.periods, pop.k
    start, end = windows[1:]
    c, N = start.shape

    def buffer(name: str, dtype: DTypeLike) -> np.ndarray:
        return ws.get(f"roll.{pop.on}.{name}", (c, P, N), dtype)

    sums, counts, records, bounds = _roll_months(m, pop, v, windows, buffer, rated)
    if not noisy:
        _roll_effects(m, rng, pop, sums, counts, effects, bounds, buffer, rated, ws)
    mean = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(sums, np.maximum(counts, 1, out=buffer("divisor", np.int64)), out=mean)
    if not noisy:
        np.clip(mean, m.lo, m.hi, out=mean)
    score = np.multiply(pop.score_weight, mean, out=mean)
    score += pop.other_sum
    score /= pop.score_weight + pop.other_weight
    np.round(score, 9, out=score)
    ok = np.greater(counts, 0, out=buffer("rated", bool))
    if pop.max_not_rated is not None:
        over = np.subtract(records, counts, out=buffer("divisor", np.int64))
        ok &= np.less_equal(over, pop.max_not_rated, out=buffer("within", bool))
    out.scores[pop.on] = score.reshape(c * P, N)
    out.rated[pop.on] = ok.reshape(c * P, N)
    vr = None
    if veto is not None:
        vr = np.any(veto.reshape(c, P, k, N), axis=2)
        if m.turnover and rated is None:
            _partial(veto, start, end, P, k, vr, how="any")
        vr = vr.reshape(c * P, N)
    out.veto[pop.on] = vr


_Buffer = Callable[[str, DTypeLike], np.ndarray]
"""A roll-up's (c, periods, slots) array by name and dtype, in the workspace (see ``_roll``)."""


def _roll_months(m: _Model, pop: _Pop, v: np.ndarray,
                 windows: tuple[np.ndarray, np.ndarray, np.ndarray], buffer: _Buffer,
                 rated: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                            tuple[np.ndarray, np.ndarray] | None]:
    """Per (scenario, roll-up period, slot): the sum of the rated months' scores, the rated
    months and the months on record; and the window's bounds in each period (with turnover;
    else None). ``rated``: see ``_roll``.
    """
    P, k = pop.periods, pop.k
    rec, start, end = windows
    c, N = start.shape
    sums = np.sum(v.reshape(c, P, k, N), axis=2, out=buffer("sums", np.float64))
    counts = records = buffer("counts", np.int64)
    bounds = None
    if m.turnover:
        edges = np.arange(P)[None, :, None] * k
        lo = np.clip(start[:, None, :], edges, edges + k, out=buffer("lo", np.int64))
        hi = np.clip(end[:, None, :], edges, edges + k, out=buffer("hi", np.int64))
        np.maximum(hi, lo, out=hi)
        records = np.clip(rec[:, None, :], edges, edges + k, out=buffer("records", np.int64))
        np.subtract(hi, records, out=records)
        np.maximum(records, 0, out=records)
        bounds = (lo, hi)
        if rated is None:
            np.subtract(hi, lo, out=counts)
            _partial(v, start, end, P, k, sums)
    elif rated is not None:  # whole windows: k months on record, fewer rated
        records = buffer("records", np.int64)
        records[...] = k
    else:
        counts[...] = k
    if rated is not None:
        np.add.reduce(rated.reshape(c, P, k, N).view(np.uint8), axis=2, dtype=np.int64,
                      out=counts)
    return sums, counts, records, bounds


def _roll_effects(m: _Model, rng: np.random.Generator, pop: _Pop, sums: np.ndarray,
                  counts: np.ndarray, effects: tuple[np.ndarray, np.ndarray] | None,
                  bounds: tuple[np.ndarray, np.ndarray] | None, buffer: _Buffer,
                  rated: np.ndarray | None, ws: _Workspace) -> None:
    """Add to ``sums`` the group effects of each period's rated months and the noise of their
    mean (sd × √months), when the months themselves carry neither.
    """
    c, P, N = sums.shape
    k = pop.k
    f = buffer("float", np.float64)
    if effects is not None and rated is not None:  # the months missed are scattered: each month's
        gv, group = effects
        g = gv.take(group, axis=1, out=ws.get("tmp", (c * P * k, N), np.float64),
                    mode="wrap")  # all in range
        g *= rated
        sums += np.sum(g.reshape(c, P, k, N), axis=2, out=f)
    elif effects is not None:
        gv, group = effects
        g = gv.reshape(c, P * k, -1)
        if bounds is not None:
            sums += _effect_window(_cumsum0(g), *bounds, group[None, None, :], f,
                                   buffer("float2", np.float64), buffer("index", np.int64))
        else:
            sums += g.reshape(c, P, k, -1).sum(axis=2).take(group, axis=2, out=f)
    if m.sd > 0:
        z = _noise(rng, buffer("noise", np.float64), buffer("noise.index", np.int64))
        scale = np.sqrt(counts, out=f)
        scale *= m.sd
        z *= scale
        sums += z


def _effect_window(gc: np.ndarray, lo: np.ndarray, hi: np.ndarray, e: np.ndarray,
                   out: np.ndarray, spare: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Σ of each slot's group effect over months [lo, hi) into ``out`` (``spare``, ``index``:
    buffers of its shape, float and int64): gc is (c, M+1, groups).
    """
    c, m1, g = gc.shape
    base = (np.arange(c)[:, None, None] * m1) * g
    flat = gc.ravel()
    for month, into in ((hi, out), (lo, spare)):
        np.multiply(month, g, out=index)
        index += base
        index += e
        flat.take(index, out=into, mode="clip")
    return np.subtract(out, spare, out=out)
