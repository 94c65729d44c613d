"""A live scenario: a policy and a data set, re-run after each parameter change (for sliders).

The data is checked and encoded once. Measures and KPI points are kept by the policy part they
come from (``score_rows``), so moving a grade threshold reuses every KPI's points, and changing
one KPI's tier re-scores that KPI only; the later stages (sections, scorecards, grades, pay) run
again, reusing what depends on the data alone. Stage results are remembered in a ``Memo``
bounded by bytes, and the scenario keeps freed memory in the process (``calib._util.memory``).
"""

from __future__ import annotations

import time
from typing import Any

from calib._util.memo import Memo
from calib._util.memory import keep_freed_memory, prefault
from calib.data.read import load_data
from calib.engine.checks import check_rules_again
from calib.engine.frame import Frame, build_frame
from calib.engine.pipeline import grade_and_pay_stage, score_stage
from calib.engine.result import Result
from calib.engine.score import score_rows
from calib.policy.model import Policy

_NOT_SCORING = frozenset({"grading", "pay", "ranges", "name", "title", "description", "version"})


def scoring_parts(policy: Policy) -> tuple:
    """The parts of a policy that scoring reads: two policies with equal parts score alike."""
    return tuple(getattr(policy, f) for f in type(policy).model_fields if f not in _NOT_SCORING)


class Scenario:
    """A policy applied to a data set, ready to be re-run with changed numbers.

    ``scenario.result`` is the current ``Result``; ``scenario.with_params({path: value})``
    returns a new scenario sharing the encoded data and the cache; ``seconds`` is how long the
    last (re)computation took. A change to grading or pay reuses the whole scoring stage; a
    change to one KPI re-scores that KPI only. Tables are built when first read, and tables that
    a change did not touch (scores after a grading change, grades after a pay change) are the
    same objects in both results: copy one before changing it in place.

    Parameters
    ----------
    policy : Policy
        The scheme to apply.
    data : Dataset, DataFrame, dict or str
        The input tables, in any form ``load_data`` reads; checked and encoded once.

    Attributes
    ----------
    policy : Policy
        The policy of this scenario.
    result : Result
        The run of ``policy`` over the data.
    seconds : float
        How long the last (re)computation took.

    Raises
    ------
    DataError
        If the data does not fit the policy (every problem at once).

    Examples
    --------
    >>> policy = calib.load_policy("datasets/gas_cs/policy.yaml")
    >>> s = calib.Scenario(policy, "datasets/gas_cs")
    >>> s2 = s.with_params({"grading.scale.grades[0].min": 93})
    >>> s.total_payout(), s2.total_payout()
    (3330591.26, 3334497.21)
    """

    def __init__(self, policy: Policy, data: Any = None, *, _frame: Frame | None = None,
                 _cache: dict | None = None, _scored: tuple | None = None):
        self.policy = policy
        if _frame is None:
            keep_freed_memory()  # re-runs reuse freed memory instead of faulting in new pages
            ds = load_data(data, policy)
            _frame = build_frame(policy, ds)
            _frame.dataset = ds  # re-runs check the raw data against changed rules
        self._frame = _frame.under(policy)
        fresh = self._frame.memo is None
        if fresh:
            self._frame.memo = Memo.for_rows(self._frame.n)
        else:  # a changed bonus range or add/deduct level may make recorded values invalid
            check_rules_again(self._frame)
        self._frame.memo.join(self)
        self._cache: dict = {} if _cache is None else _cache
        start = time.perf_counter()
        parts = scoring_parts(policy)
        if _scored is not None and _scored[0] == parts:
            scored = _scored[1]
            self._frame.active = scored.result.frame.active
        else:
            self._frame.active = {}
            scored = score_stage(self._frame, rows=self._rows)
        self._scored = (parts, scored)
        self.result: Result = grade_and_pay_stage(scored, self._frame)
        self.seconds = time.perf_counter() - start
        if fresh:  # the memo's budget and a re-run's temporaries, faulted in once now rather
            # than page by page over the session's first moves
            prefault(2 * self._frame.memo.budget)

    def _rows(self, frame: Frame) -> tuple[dict, dict, dict]:
        return score_rows(frame, self._cache)

    def with_params(self, changes: dict[str, Any]) -> Scenario:
        """A new scenario with ``changes`` applied (validated: PolicyError names a bad path).

        This scenario is left as it is. The new one shares the encoded data and the cache, and
        re-runs only what the change touches (a grading or pay change keeps the scoring stage).

        Parameters
        ----------
        changes : dict
            New values by parameter path (as ``policy.params()`` lists them).

        Returns
        -------
        Scenario
            The scenario of the changed policy, its ``result`` computed.

        Raises
        ------
        PolicyError
            If a path does not exist or the changed policy is invalid.
        DataError
            If the recorded data is invalid under the changed rules (a bonus maximum below a
            recorded bonus, an add/deduct level that events use), naming the rows.

        Examples
        --------
        >>> policy = calib.load_policy("datasets/gas_cs/policy.yaml")
        >>> s = calib.Scenario(policy, "datasets/gas_cs")
        >>> s2 = s.with_params({"grading.scale.grades[0].min": 93})
        >>> s2.policy.get("grading.scale.grades[0].min"), s.policy.get("grading.scale.grades[0].min")
        (93.0, 95.0)
        """
        return Scenario(self.policy.with_params(changes), _frame=self._frame,
                        _cache=dict(self._cache), _scored=self._scored)

    def with_policy(self, policy: Policy) -> Scenario:
        """The same data under another policy with the same inputs.

        Parameters
        ----------
        policy : Policy
            The other policy; its ``inputs`` must be those of this scenario's policy, as the
            encoded data is reused.

        Returns
        -------
        Scenario
            The scenario of ``policy``, its ``result`` computed.

        Raises
        ------
        DataError
            If the recorded data is invalid under the other policy's rules.
        """
        return Scenario(policy, _frame=self._frame, _cache=dict(self._cache),
                        _scored=self._scored)

    def total_payout(self) -> float:
        """The payout total (0 when the policy does not pay).

        Returns
        -------
        float
            ``self.result.total_payout()``: the sum of every payout, in the policy's currency.

        Examples
        --------
        >>> s = calib.Scenario(calib.load_policy("datasets/gas_cs/policy.yaml"), "datasets/gas_cs")
        >>> s.total_payout()
        3330591.26
        """
        return self.result.total_payout()
