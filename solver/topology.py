"""Phase physics of the collector tree, as linear maps.

Every phase of every collector is a "row". A current injected on a collector's own phase (a
"local" row) flows through that row and, via the 1P placement or the phase permutation, through one
phase of each ancestor up to the root, scaled at each voltage change by V_child / V_parent
(a transformer, losses ignored). `aggregation[r, j]` is the current on row r per ampere injected on
local row j, so the net current on every row is one sparse product for the whole site.
`parent_row[j]` (-1 at the root) and `parent_ratio[j]` are the single step up from row j.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from solver.problem import PHASES, Collector


@dataclass(frozen=True)
class Topology:
    """Rows (collector, phase), their fuse and voltage, and the row-to-ancestor-row map."""

    collectors: tuple[Collector, ...]
    rows: tuple[tuple[str, str], ...]
    line_current: np.ndarray
    row_voltage: np.ndarray
    aggregation: sp.csc_array
    parent_row: np.ndarray
    parent_ratio: np.ndarray
    root_id: str
    _row_index: Mapping[tuple[str, str], int]
    _phases: Mapping[str, tuple[str, ...]]

    @property
    def size(self) -> int:
        return len(self.rows)

    @property
    def root_rows(self) -> np.ndarray:
        return np.array([self.row(self.root_id, p) for p in self.phases(self.root_id)], dtype=np.int64)

    def phases(self, collector_id: str) -> tuple[str, ...]:
        try:
            return self._phases[collector_id]
        except KeyError:
            raise ValueError(f"unknown collector {collector_id!r}") from None

    def voltage(self, collector_id: str) -> float:
        return float(self.row_voltage[self.row(collector_id, self.phases(collector_id)[0])])

    def row(self, collector_id: str, phase: str) -> int:
        try:
            return self._row_index[(collector_id, phase)]
        except KeyError:
            raise ValueError(
                f"collector {collector_id!r} has no phase {phase!r} (its phases: {self.phases(collector_id)})"
            ) from None

    def local(self, collector_id: str, phases: Sequence[str]) -> np.ndarray:
        """Current on the collector's own rows per ampere drawn on each of `phases` (nothing upstream)."""
        vector = np.zeros(self.size)
        np.add.at(vector, [self.row(collector_id, p) for p in phases], 1.0)
        return vector

    def injection(self, collector_id: str, phases: Sequence[str]) -> np.ndarray:
        """Current on every row per ampere drawn on each of `phases` of the collector."""
        return np.asarray(self.aggregation @ self.local(collector_id, phases))

    def balanced_local_per_watt(self, collector_id: str) -> np.ndarray:
        """Current on the collector's own rows per W of a device that splits evenly over its phases."""
        phases = self.phases(collector_id)
        return self.local(collector_id, phases) / (len(phases) * self.voltage(collector_id))

    def balanced_per_watt(self, collector_id: str) -> np.ndarray:
        """Current on every row per W of a device that splits evenly over the collector's phases."""
        return np.asarray(self.aggregation @ self.balanced_local_per_watt(collector_id))


def _collector_phases(collector: Collector) -> tuple[str, ...]:
    if collector.kind == "3P":
        return PHASES
    return (collector.phase or "L1",)


def _parent_phase_map(child: Collector, parent: Collector, parent_phases: tuple[str, ...]) -> dict[str, str]:
    """Child phase name -> parent phase name, validated against the parent's phases."""
    if child.kind == "1P":
        if child.phase not in parent_phases:
            raise ValueError(
                f"1P collector {child.id!r} hangs on {child.phase!r}, not a phase of {parent.id!r} {parent_phases}"
            )
        return {child.phase: child.phase}
    if parent.kind == "1P":
        raise ValueError(f"3P collector {child.id!r} cannot hang on 1P collector {parent.id!r}")
    mapping = dict(child.phase_permutations or {p: p for p in PHASES})
    if set(mapping) != set(PHASES) or sorted(mapping.values()) != sorted(PHASES):
        raise ValueError(f"collector {child.id!r}: phase_permutations must map L1, L2, L3 one-to-one onto L1, L2, L3")
    return mapping


def _validated_root(collectors: Sequence[Collector]) -> Collector:
    by_id: dict[str, Collector] = {}
    for collector in collectors:
        if collector.id in by_id:
            raise ValueError(f"duplicate collector id {collector.id!r}")
        by_id[collector.id] = collector
    roots = [c for c in collectors if c.parent_id is None]
    if len(roots) != 1:
        raise ValueError(f"the collector tree needs exactly one root, found {len(roots)}")
    for collector in collectors:
        if collector.parent_id is not None and collector.parent_id not in by_id:
            raise ValueError(f"collector {collector.id!r}: unknown parent {collector.parent_id!r}")
    return roots[0]


def build_topology(collectors: Sequence[Collector]) -> Topology:
    """Validate the collector tree and build its rows and aggregation matrix."""
    root = _validated_root(collectors)
    children: dict[str, list[Collector]] = {}
    for collector in collectors:
        if collector.parent_id is not None:
            children.setdefault(collector.parent_id, []).append(collector)
    order: list[Collector] = [root]
    for collector in order:
        order.extend(children.get(collector.id, []))
    if len(order) != len(collectors):
        raise ValueError("the collector tree has a cycle (some collectors are not below the root)")

    phases = {c.id: _collector_phases(c) for c in order}
    rows = [(c.id, p) for c in order for p in phases[c.id]]
    index = {row: i for i, row in enumerate(rows)}
    by_id = {c.id: c for c in order}
    voltage = np.array([by_id[cid].phase_voltage for cid, _ in rows])
    # up[j] = (parent row, ratio) of each row, None for the root rows.
    up: list[tuple[int, float] | None] = []
    for cid, phase in rows:
        collector = by_id[cid]
        if collector.parent_id is None:
            up.append(None)
            continue
        parent = by_id[collector.parent_id]
        parent_phase = _parent_phase_map(collector, parent, phases[parent.id])[phase]
        up.append((index[(parent.id, parent_phase)], collector.phase_voltage / parent.phase_voltage))

    row_ids: list[int] = []
    col_ids: list[int] = []
    values: list[float] = []
    for j in range(len(rows)):
        current_row, ratio = j, 1.0
        while True:
            row_ids.append(current_row)
            col_ids.append(j)
            values.append(ratio)
            step = up[current_row]
            if step is None:
                break
            current_row, ratio = step[0], ratio * step[1]
    aggregation = sp.csc_array((values, (row_ids, col_ids)), shape=(len(rows), len(rows)))
    return Topology(
        collectors=tuple(order),
        rows=tuple(rows),
        line_current=np.array([by_id[cid].line_current for cid, _ in rows], dtype=float),
        row_voltage=voltage,
        aggregation=aggregation,
        parent_row=np.array([-1 if step is None else step[0] for step in up], dtype=np.int64),
        parent_ratio=np.array([1.0 if step is None else step[1] for step in up]),
        root_id=root.id,
        _row_index=index,
        _phases=phases,
    )
