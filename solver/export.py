"""The LP exactly as HiGHS receives it from the model, for solving it alone (bench) or writing it to a file.

Same rows, columns, costs and bounds as the model's own solve (the model's arrays), loaded into a plain
`highspy.Highs` with HiGHS's default options, so a bench can compare our whole solve with HiGHS alone.
"""

from __future__ import annotations

import highspy as hp

from solver.highs_basis import Arrays, pass_model
from solver.model import LinearModel
from solver.numbers import Numbers


def exported_highs(model: LinearModel, numbers: Numbers) -> hp.Highs:
    """A fresh HiGHS (default options, quiet) holding the LP of `numbers`; `writeModel("x.mps")` writes it."""
    model.set_numbers(numbers)
    assert model.lp.matrix is not None, "the model's LP is built with it"
    highs = hp.Highs()
    highs.setOptionValue("output_flag", False)
    pass_model(highs, model.lp.matrix, Arrays.of(model.lp))
    return highs
