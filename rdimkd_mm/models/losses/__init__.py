from .rdimkd_loss import RdimKDLoss

__all__ = ['RdimKDLoss']
