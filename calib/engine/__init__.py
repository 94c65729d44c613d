"""The engine: the encoded frame, the stages (measures, scores, scorecards, roll-ups, grades, pay) and
the Result with its statements.
"""

from calib.engine.pipeline import Scored, grade_and_pay_stage, run, score_frame, score_stage

__all__ = ["Scored", "grade_and_pay_stage", "run", "score_frame", "score_stage"]
