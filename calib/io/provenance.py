"""A frozen policy's provenance: the data it was calibrated on and the figures it was signed
off with (runs the engine, so it lives above it, not in the policy layer).
"""

from __future__ import annotations

from typing import Any

from calib.policy.model import Policy


def provenance(policy: Policy, data: Any, note: str | None = None) -> dict[str, Any]:
    """The data set's fingerprint (its content, whatever the order of rows and columns), each
    file's sha256 (the bytes, by file name) and the calibration figures (rows, rated, grade distribution,
    payout total) of ``policy`` on it: what the policy was signed off with.

    Stamped into a frozen file (``freeze(policy, provenance=...)``), it lets next year's reader
    check which data the numbers were calibrated on and what they gave.

    Parameters
    ----------
    policy : Policy
        The policy signed off.
    data : Dataset, DataFrame, dict or str
        The data it was calibrated on, in any form ``load_data`` reads.
    note : str, optional
        A free note to keep with it (who signed off, a ticket).

    Returns
    -------
    dict
        ``data_sha256`` (the content's fingerprint), ``data_files`` (sha256 of each file by
        name), ``figures`` (``rows``, ``rated``, ``mean_score``, and ``grade_distribution`` and
        ``payout_total`` when the policy grades and pays) and ``note`` when one is given.

    Raises
    ------
    DataError
        If the data does not fit the policy.
    MoneyError
        If an amount cannot be paid exactly.

    Examples
    --------
    >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    >>> prov = calib.provenance(policy, "datasets/ecommerce_cs", note="signed off by HR")
    >>> sorted(prov)
    ['data_files', 'data_sha256', 'figures', 'note']
    >>> text = calib.freeze(policy, provenance=prov)
    """
    from calib.data.read import load_data
    from calib.engine.pipeline import run

    ds = load_data(data, policy)
    result = run(policy, ds)
    figures: dict[str, Any] = {
        "rows": len(result.scores),
        "rated": int((result.scores["status"] == "rated").sum()),
        "mean_score": round(float(result.scores["score"].mean()), 6),
    }
    if result.grades is not None:
        counts = result.grades["grade"].value_counts().reindex(
            policy.grading.scale.names(), fill_value=0)
        figures["grade_distribution"] = {str(k): int(v) for k, v in counts.items()}
    if result.payouts is not None:
        figures["payout_total"] = f"{result.payout_total():.2f}"
    out: dict[str, Any] = {"data_sha256": ds.fingerprint(), "data_files": ds.file_hashes(),
                           "figures": figures}
    if note:
        out["note"] = note
    return out
