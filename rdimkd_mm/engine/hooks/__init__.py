from .feature_vis_hook import ProjectedFeatureVisHook
from .fit_projections_hook import FitProjectionsHook
from .teacher_eval_hook import TeacherEvalHook

__all__ = ['FitProjectionsHook', 'ProjectedFeatureVisHook', 'TeacherEvalHook']
