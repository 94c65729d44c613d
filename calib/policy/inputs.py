"""What the policy needs from the data: tables, columns, types, and the calendar of periods."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from calib.policy.base import Number, Strict, check_min_max

ColumnType = Literal["int", "float", "text", "bool", "label", "date", "datetime"]


class ColumnSpec(Strict):
    """One input column: its type, allowed range and, for labels, the allowed labels.

    ``required: true`` (the default) makes an empty cell a data error; ``required: false`` lets it
    through as a missing value that the KPI's ``on_missing`` then handles. A number whose size is
    above ``max`` (or, with no ``max``, above ``calib.bounds.MAX_INPUT``) is refused as implausible.
    A date column whose values write day and month as numbers before the year (03/04/2024)
    needs ``format``: calib does not guess which is the day.
    """

    type: ColumnType = "float"
    required: bool = True
    min: Number | None = None
    max: Number | None = None
    labels: list[str] | None = None
    label: str | None = None
    unit: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _range(self) -> ColumnSpec:
        check_min_max(self.min, self.max, "the column's ")
        return self
    #: how a date column's text is written, for dates whose day/month order a value cannot tell
    #: (``"%d/%m/%Y"`` for 03/04/2024 = 3 April); ISO dates and Excel date cells are read anyway
    format: str | None = None

    @model_validator(mode="after")
    def _format_for_dates(self) -> ColumnSpec:
        if self.format is not None:
            if self.type not in ("date", "datetime"):
                raise ValueError("'format' applies to date and datetime columns only")
            if "%" not in self.format:
                raise ValueError(f"format {self.format!r} has no %-codes; write e.g. '%d/%m/%Y' "
                                 "(day/month/year) or '%m/%d/%Y' (month/day/year)")
        return self


class TableSpec(Strict):
    """One input table. ``file`` defaults to ``<name>.csv`` (``.xlsx`` and ``.parquet`` also found).

    Per-period and event tables say where their period comes from: ``period`` (a column holding
    ``2025-03``, ``2025-Q1``, ``2025-W07`` or a date) or ``date`` (a date or timestamp column placed
    in a period by the policy's calendar, which honours custom boundaries such as the 26th).
    """

    file: str | None = None
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    period: str | None = None
    date: str | None = None

    @model_validator(mode="after")
    def _one_period_source(self) -> TableSpec:
        if self.period is not None and self.date is not None:
            raise ValueError("give 'period' or 'date', not both")
        return self


class Inputs(Strict):
    """The tables a scheme reads: people (one row each), records (one row per person and period)
    and any event tables (requests, surveys, ratings, add/deduct events).
    """

    id: str = "employee_id"
    people: TableSpec = Field(default_factory=TableSpec)
    records: TableSpec
    events: dict[str, TableSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _records_have_period(self) -> Inputs:
        if self.records.period is None and self.records.date is None:
            raise ValueError("records need 'period' (a column of period labels) or 'date'")
        return self

    def table(self, name: str) -> TableSpec:
        """The spec of table ``name`` (people, records, or an event table)."""
        if name == "people":
            return self.people
        if name == "records":
            return self.records
        return self.events[name]

    def table_names(self) -> list[str]:
        """Every declared table."""
        return ["people", "records", *self.events]


class Calendar(Strict):
    """The scoring period. ``start_day: 26`` makes a month run from the 26th to the 25th of the
    next; such a period is named after the month it ends in (26 Jan – 25 Feb is 2025-02).
    """

    frequency: Literal["week", "month", "quarter"] = "month"
    start_day: int = Field(default=1, ge=1, le=28)

    @model_validator(mode="after")
    def _start_day_monthly(self) -> Calendar:
        if self.start_day != 1 and self.frequency != "month":
            raise ValueError("'start_day' applies to monthly periods only")
        return self
