"""The teacher's input from the student-preprocessed batch (mean, std, channel order, padding)."""
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Normalisation(NamedTuple):
    """How a data preprocessor turns a raw image batch into model input."""
    mean: Optional[Tensor]  # (C, 1, 1) or None (no normalisation)
    std: Optional[Tensor]  # (C, 1, 1) or None
    flip_channels: bool  # bgr_to_rgb / rgb_to_bgr
    size_divisor: int
    pad_value: float

    @classmethod
    def of(cls, preprocessor: nn.Module) -> 'Normalisation':
        enabled = getattr(preprocessor, '_enable_normalize', hasattr(preprocessor, 'mean'))
        flip = getattr(preprocessor, '_channel_conversion',
                       getattr(preprocessor, 'channel_conversion', False))
        divisor = getattr(preprocessor, 'pad_size_divisor', None)
        if divisor is None:
            divisor = getattr(preprocessor, 'size_divisor', None)
        return cls(
            mean=preprocessor.mean.detach().cpu().float() if enabled else None,
            std=preprocessor.std.detach().cpu().float() if enabled else None,
            flip_channels=bool(flip),
            size_divisor=int(divisor or 1),
            pad_value=float(getattr(preprocessor, 'pad_value', 0)))

    def same_pixels_as(self, other: 'Normalisation') -> bool:
        """Whether both turn a raw image into the same tensor (padding aside)."""
        if (self.mean is None) != (other.mean is None) or self.flip_channels != other.flip_channels:
            return False
        return self.mean is None or (torch.equal(self.mean, other.mean)
                                     and torch.equal(self.std, other.std))


class TeacherInputAdapter:
    """Turns the student-preprocessed batch into the teacher's input.

    Both models must see the same augmented pixels, so the batch is preprocessed once (by the
    student's preprocessor, including its batch augmentations). When the teacher's
    preprocessor normalises the same way, the batch is passed as is. Otherwise it is
    un-normalised with the student's mean/std, channel-flipped if the two disagree on RGB/BGR,
    normalised with the teacher's mean/std, and padded (bottom/right, teacher's pad value) to
    the teacher's size divisor. Padding pixels the student added keep the student's pad value
    mapped through this transform.

    Args:
        student (nn.Module): The student's data preprocessor.
        teacher (nn.Module): The teacher's data preprocessor.
    """

    def __init__(self, student: nn.Module, teacher: nn.Module) -> None:
        self.student = Normalisation.of(student)
        self.teacher = Normalisation.of(teacher)
        self.renormalise = not self.student.same_pixels_as(self.teacher)

    def __call__(self, inputs: Tensor) -> Tensor:
        """(N, 3, H, W) student input -> (N, 3, H', W') teacher input."""
        if self.renormalise:
            s, t = self.student, self.teacher
            x = inputs
            if s.mean is not None:
                x = x * s.std.to(x) + s.mean.to(x)
            if s.flip_channels != t.flip_channels:
                x = x.flip(1)
            if t.mean is not None:
                x = (x - t.mean.to(x)) / t.std.to(x)
            inputs = x
        divisor = self.teacher.size_divisor
        h, w = inputs.shape[-2:]
        pad_h, pad_w = (-h) % divisor, (-w) % divisor
        if pad_h or pad_w:
            inputs = F.pad(inputs, (0, pad_w, 0, pad_h), value=self.teacher.pad_value)
        return inputs
