from .fit_projections_hook import FitProjectionsHook

__all__ = ['FitProjectionsHook']
