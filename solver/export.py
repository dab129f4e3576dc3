"""The LP exactly as HiGHS receives it from the model, for solving it alone (bench) or writing it to a file.

Same rows, columns, costs and bounds as the model's LP (its arrays), loaded into a plain
`highspy.Highs` with HiGHS's default options, so a bench can compare our whole solve with HiGHS alone.
"""

from __future__ import annotations

import highspy as hp

from solver.highs_basis import Arrays, pass_model
from solver.model import LinearModel
from solver.numbers import Numbers


def exported_highs(model: LinearModel, numbers: Numbers, reduced: bool = False) -> hp.Highs:
    """A fresh HiGHS (default options, quiet) holding the LP of `numbers`; `writeModel("x.mps")` writes it.

    `reduced`: without the aggregates our presolve substitutes out for these numbers (solver.reduction), the LP
    the model's own solve hands HiGHS."""
    model.set_numbers(numbers)
    lp = model.lp
    assert lp.matrix is not None, "the model's LP is built with it"
    highs = hp.Highs()
    highs.setOptionValue("output_flag", False)
    reduction = model.highs_solver.reduced(lp) if reduced else None
    if reduction is None:
        pass_model(highs, lp.matrix, Arrays.of(lp))
    else:
        pass_model(highs, reduction.matrix, Arrays.reduced(lp, reduction))
    return highs
