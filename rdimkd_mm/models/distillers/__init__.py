from .feature_distiller import FeatureDistiller
from .kd_scale_monitor import KDScaleMonitor

__all__ = ['FeatureDistiller', 'KDScaleMonitor']
