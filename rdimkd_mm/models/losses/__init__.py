from .base_distill_loss import BaseDistillLoss
from .cwd_loss import CWDLoss
from .pkd_loss import PKDLoss
from .rdimkd_loss import RdimKDLoss

__all__ = ['BaseDistillLoss', 'RdimKDLoss', 'PKDLoss', 'CWDLoss']
