from .finite_optim_wrapper import FiniteAmpOptimWrapper, FiniteOptimWrapper, NonFiniteStep

__all__ = ['FiniteAmpOptimWrapper', 'FiniteOptimWrapper', 'NonFiniteStep']
