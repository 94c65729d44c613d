"""Notebook 05 (the managers' what-if app, also ``./dev app``): its cells.

Thin on purpose: the app of ``calib.lab.whatif_app`` is built and shown; every rule and
calculation lives in ``calib.lab.whatif`` and ``calib.lab.whatif_report``. Voilà shows the outputs
only, so the text of the markdown cells speaks to app users and notebook users alike; what only
notebook users can do (drive the panel from code) is shown by a code cell that prints nothing
in the app (``in_app()``).
"""

from __future__ import annotations

from tools.notebooks.common import SCHEMES, code, md

NB05 = [
    md("""
# 05 · What if…?

For **managers**: what would have happened to one person if one of their numbers had been
different, say more satisfied customers, an extra complaint or a better rating?

1. pick a **scheme** (one of the examples, or *(a folder…)* for your own policy.yaml and data);
2. pick a **person** and a **month**: their inputs of that month appear as a form;
3. change any of them and press **Recalculate**: the scheme runs again on a copy of the data
   (the files are not touched) and shows score, grade, place and each pay component before and
   after, the lines of the statement that changed, and **who else moved** (in a forced
   distribution one person's grade can push another's).
"""),
    code('SCHEME = "gas_cs"  # the scheme the app opens on; the picker changes it'),
    code('''
from pathlib import Path

from calib.lab.whatif_app import WhatIfApp, in_app

app = WhatIfApp(Path("..") / "datasets", scheme=SCHEME)
app.widget
'''),
    code(f'''
if not in_app():  # notebook users only: the app shows the panel above and nothing else
    from IPython.display import Markdown, display

    display(Markdown("""
## The same in code

`SCHEME` above is the scheme the panel opens on: any of {SCHEMES}.
`app.what_if` is the panel: `inputs()` is the picked record, `suggest()` a change worth trying,
`set_inputs({{...}})` types values into the fields, `recalculate()` re-runs the scheme,
`before_after()` and `others_moved()` are what the panel shows. The cell below tries the
suggestion; replace `CHANGES` with your own, for example `{{"complaints": 2}}`.
"""))
'''),
    code('''
if not in_app() and app.what_if is not None:
    what_if = app.what_if
    CHANGES = what_if.suggest()  # or your own: {"column": new value}
    print(f"{what_if.person.value}, {what_if.period.value}: CHANGES = {CHANGES or 'nothing to suggest'}")
    what_if.set_inputs(CHANGES)
    if what_if.recalculate() is None:
        print("Not applied:", what_if.error)
    else:
        display(what_if.before_after().set_index("item"), what_if.others_moved().head(20))
'''),
]
