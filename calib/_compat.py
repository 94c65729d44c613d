"""Old import paths (before the packages per layer, 0.1) keep working for one release.

``import calib.grading`` gives the module ``calib.engine.grading`` itself (the same object, so
monkeypatching either name patches both) with a ``DeprecationWarning`` naming the new path.
Removed in the release after next.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType

MOVED = {
    'calib.calendar': 'calib.data.calendar',
    'calib.calibrate': 'calib.analysis.calibrate',
    'calib.canonical': 'calib.data.canonical',
    'calib.cards': 'calib.engine.cards',
    'calib.charts': 'calib.lab.charts',
    'calib.checks': 'calib.engine.checks',
    'calib.columns': 'calib._util.columns',
    'calib.compare': 'calib.analysis.compare',
    'calib.conditions': 'calib.kernels.conditions',
    'calib.diagnostics': 'calib.analysis.diagnostics',
    'calib.eligibility': 'calib.engine.eligibility',
    'calib.explain': 'calib.engine.explain',
    'calib.footprint': 'calib.data.footprint',
    'calib.frame': 'calib.engine.frame',
    'calib.freeze': 'calib.policy.frozen',
    'calib.grading': 'calib.engine.grading',
    'calib.lookalike': 'calib.data.lookalike',
    'calib.measures': 'calib.engine.measures',
    'calib.memo': 'calib._util.memo',
    'calib.memory': 'calib._util.memory',
    'calib.missing': 'calib.engine.missing',
    'calib.money': 'calib.kernels.money',
    'calib.outputs': 'calib._util.outputs',
    'calib.payout': 'calib.engine.payout',
    'calib.rebalance': 'calib.analysis.rebalance',
    'calib.report': 'calib.io.report',
    'calib.result': 'calib.engine.result',
    'calib.rollup': 'calib.engine.rollup',
    'calib.rules_text': 'calib.policy.describe',
    'calib.score': 'calib.engine.score',
    'calib.sheet_cells': 'calib.data.sheet_cells',
    'calib.simulate_blocks': 'calib.simulate.blocks',
    'calib.simulate_draw': 'calib.simulate.draw',
    'calib.simulate_grade': 'calib.simulate.grade',
    'calib.simulate_model': 'calib.simulate.model',
    'calib.simulate_pay': 'calib.simulate.pay',
    'calib.simulate_run': 'calib.simulate.run',
    'calib.stages': 'calib.engine.stages',
    'calib.streaks': 'calib.engine.streaks',
    'calib.ui': 'calib.lab.ui',
    'calib.validate': 'calib.data.validate',
    'calib.whatif': 'calib.lab.whatif',
    'calib.workbooks': 'calib.io.workbooks',
    'calib.written_numbers': 'calib._util.written_numbers',
    'calib.xlsx': 'calib._util.xlsx',
}


class _Moved(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module path and loads it as the module at its new path."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; the old path goes in the release after next",
                      DeprecationWarning, stacklevel=3)
        module = importlib.import_module(new)
        sys.modules[spec.name] = module
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module at the new path is already loaded."""


def install(package: dict) -> None:
    """Add the finder once, first: it answers only for paths that no longer exist as files.

    An old path whose last name is also a name of the package (``calib.freeze``, the function)
    must not replace the package's function by the module when first imported (Python sets a
    submodule as its parent's attribute): the package's module type refuses that
    (``calib._Package``); a name already imported here is registered at once.
    """
    for old, new in MOVED.items():
        leaf = old.rsplit(".", 1)[1]
        if leaf in package and not isinstance(package[leaf], ModuleType):
            sys.modules.setdefault(old, importlib.import_module(new))
    if not any(isinstance(f, _Moved) for f in sys.meta_path):
        sys.meta_path.insert(0, _Moved())
