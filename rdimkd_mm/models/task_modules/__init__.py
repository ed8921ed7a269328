"""Task modules of the distiller: feature taps, the probe, the teacher's input, moments."""
from .feature_moments import FeatureMoments
from .feature_probe import (FEATURE_MODULES, Feature, dummy_batch, equal_stride_slices, features_of,
                            format_stride, in_extract_feat, output_tensors, probe_forward,
                            probe_modules, same_stride, single_call)
from .feature_taps import EarlyExit, FeatureTaps, parse_address
from .head_feature import decode_head_name, head_feature_module
from .input_adapter import Normalisation, TeacherInputAdapter

__all__ = [
    'FeatureMoments', 'FEATURE_MODULES', 'Feature', 'dummy_batch',
    'equal_stride_slices', 'features_of', 'format_stride', 'in_extract_feat', 'output_tensors',
    'probe_forward', 'probe_modules', 'same_stride', 'single_call', 'EarlyExit', 'FeatureTaps',
    'parse_address', 'decode_head_name', 'head_feature_module', 'Normalisation',
    'TeacherInputAdapter'
]
