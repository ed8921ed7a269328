from .feature_distiller import FeatureDistiller
from .feature_taps import FeatureTaps, parse_address
from .input_adapter import TeacherInputAdapter

__all__ = ['FeatureDistiller', 'FeatureTaps', 'parse_address', 'TeacherInputAdapter']
