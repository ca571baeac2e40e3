"""Calibration of peer grades: pure numpy/scipy, no Flask, no database.

The service and the workers feed these functions arrays loaded from the database and write the results back;
nothing here imports them.
"""

from calibration.fitting import fit
from calibration.types import Fit, Grades

__all__ = ["Fit", "Grades", "fit"]
