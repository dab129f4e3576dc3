"""The LP's parts for phase switching and bidirectional charging: variables only for the cars that use them.

`LinearModel` asks this for its extra terms (flows on the aggregates, energy, full-autonomy load,
constraints, objective) and copies the numbers in; with no switchable and no discharging car every part is
empty and the model is exactly the one without these features.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

import solver.bidirectional as bidirectional
import solver.phase_switching as phase_switching
from solver.layout import Layout
from solver.linear import Linear, LinearProgram, Variable
from solver.numbers import Numbers


def _select(columns: np.ndarray, size: int) -> sp.csr_array:
    """Rows picking `columns` out of a vector of `size`."""
    return sp.csr_array((np.ones(columns.size), (np.arange(columns.size), columns)), shape=(columns.size, size))


class FeatureModel:
    """One-phase currents of switchable cars; discharged current and stored energy of discharging cars."""

    def __init__(self, layout: Layout, aggregate_index: np.ndarray, charging: Linear | None, lp: LinearProgram) -> None:
        self.layout = layout
        self.charging = charging
        self.lp = lp
        n_sessions = len(layout.sessions)
        self.switch = phase_switching.switching(layout)
        self.store = bidirectional.storage(layout)
        n_single, n_store = self.switch.size, self.store.size
        self.single = lp.variable("single", n_single) if n_single else None
        self.single_aggregate = phase_switching.aggregate_matrix(self.switch, aggregate_index) if n_single else None
        self.single_energy = (
            sp.csr_array(
                (self.switch.kwh_per_ampere, (self.switch.session, np.arange(n_single))), shape=(n_sessions, n_single)
            )
            if n_single
            else None
        )
        self.stored = lp.variable("stored", n_store) if n_store else None
        self.discharged = lp.variable("discharged", n_store) if n_store else None
        self.loss = (
            sp.csr_array(
                (self.store.loss_kwh_per_ampere, (self.store.session, np.arange(n_store))), shape=(n_sessions, n_store)
            )
            if n_store
            else None
        )

    def net(self, charging: Linear | None) -> Linear | None:
        """The cars' net current: charging less what discharging cars give back."""
        if charging is None or self.discharged is None:
            return charging
        given_back: Linear = _select(self.store.car_step, self.layout.car_steps).T @ self.discharged
        return charging - given_back

    def aggregate_flows(self) -> list[Linear]:
        if self.single is None or self.single_aggregate is None:
            return []
        return [self.single_aggregate @ self.single]

    def energy(self, delivered: Linear) -> Linear:
        """`delivered` (kWh per session) with the one-phase energy added and the discharged energy taken off."""
        if self.single is not None and self.single_energy is not None:
            delivered = delivered + self.single_energy @ self.single
        if self.discharged is not None and self.loss is not None:
            delivered = delivered - self.loss @ self.discharged
        return delivered

    def autonomy(self, load: Linear, autonomy_steps: np.ndarray) -> Linear:
        """`load` (kW per autonomy step) with the one-phase load of full-autonomy switchable cars added."""
        if self.single is None:
            return load
        layout, switch = self.layout, self.switch
        autonomous = np.array([layout.sessions[k].session.full_autonomy for k in switch.session], dtype=bool)
        if not autonomous.any():
            return load
        columns = np.flatnonzero(autonomous)
        steps = layout.step_of_car_step[switch.car_step[columns]]
        matrix = sp.csr_array(
            (switch.kw_per_ampere[columns], (np.searchsorted(autonomy_steps, steps), columns)),
            shape=(autonomy_steps.size, switch.size),
        )
        single: Linear = matrix @ self.single
        return load + single

    def constrain(self) -> None:
        car_steps, lp = self.layout.car_steps, self.lp
        if self.single is not None and self.charging is not None:
            pin = _select(self.switch.car_step, car_steps) @ self.charging + self.single
            lp.constrain("single_phase_pin", pin, "at_most")
        if self.stored is not None and self.discharged is not None and self.charging is not None:
            select = _select(self.store.car_step, car_steps)
            gain = sp.diags_array(self.store.kwh_per_ampere, format="csr") @ select
            loss = sp.diags_array(self.store.kwh_per_ampere + self.store.loss_kwh_per_ampere, format="csr")
            balance = self.store.balance @ self.stored - gain @ self.charging + loss @ self.discharged
            lp.constrain("car_storage", balance, "equal")

    def defined(self) -> tuple[tuple[Variable, str], ...]:
        """The stored energies are defined one by one by their balance rows (unit lower bidiagonal): HiGHS's cold
        basis starts with them basic, as it does the aggregates, instead of pivoting each one in."""
        if self.stored is None or "car_storage" not in self.lp.rows:
            return ()
        return ((self.stored, "car_storage"),)

    def costs(self, earliness_weight: float) -> None:
        layout, lp = self.layout, self.lp
        if self.single is not None:
            lateness = (layout.step_of_car_step[self.switch.car_step] + 1) / layout.steps
            weight = (earliness_weight * lateness + phase_switching.SINGLE_PHASE_WEIGHT) * self.switch.kwh_per_ampere
            lp.add_cost(self.single, weight)
        if self.discharged is not None:
            lp.add_cost(self.discharged, bidirectional.WEAR_WEIGHT_PER_KWH * self.store.kwh_per_ampere)

    def set_numbers(self, numbers: Numbers) -> None:
        lp = self.lp
        if self.single is not None:
            upper = np.maximum(numbers.car_upper[self.switch.car_step], 0.0)
            lp.bound(self.single, 0.0, upper)
            lp.rhs("single_phase_pin", upper)
        if self.stored is not None and self.discharged is not None:
            low, high, start = bidirectional.energy_bounds(self.layout, self.store)
            lp.bound(self.stored, low, high)
            lp.rhs("car_storage", start)
            # Not below the car's own price limit: the energy is worth more to it there than the grid pays.
            limit = -bidirectional.discharge_lower(self.layout)[self.store.car_step]
            lp.bound(self.discharged, 0.0, np.where(numbers.below_price_limit[self.store.car_step], 0.0, limit))
