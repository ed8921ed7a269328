from .feature_vis_hook import ProjectedFeatureVisHook
from .finite_guard_hook import FiniteGuardHook
from .fit_projections_hook import FitProjectionsHook
from .teacher_eval_hook import TeacherEvalHook

__all__ = ['FiniteGuardHook', 'FitProjectionsHook', 'ProjectedFeatureVisHook', 'TeacherEvalHook']
