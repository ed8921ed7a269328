"""Random data batches for one training step of a zoo model (config tests, loss scale)."""
import torch
from mmengine.structures import InstanceData, PixelData

SIZE = 128


def fake_batch(scope: str, n: int = 2, seed: int = 0) -> dict:
    """A random batch of ``n`` SIZE x SIZE uint8 images with one box (mmdet) or random labels
    of 19 classes (mmseg): enough for one training step of a zoo model."""
    batch = dict(inputs=[], data_samples=[])
    for i in range(n):
        image, sample = fake_sample(scope, seed=seed * n + i)
        batch['inputs'].append(image)
        batch['data_samples'].append(sample)
    return batch


def fake_sample(scope: str, seed: int) -> tuple:
    """One image (3, SIZE, SIZE) and its data sample."""
    generator = torch.Generator().manual_seed(seed)
    image = torch.randint(0, 256, (3, SIZE, SIZE), generator=generator, dtype=torch.uint8)
    meta = dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE), scale_factor=(1.0, 1.0),
                img_id=0)
    if scope == 'mmseg':
        from mmseg.structures import SegDataSample
        sample = SegDataSample(metainfo=meta)
        labels = torch.randint(0, 19, (1, SIZE, SIZE), generator=generator)
        sample.gt_sem_seg = PixelData(data=labels)
    else:
        from mmdet.structures import DetDataSample
        sample = DetDataSample(metainfo=meta)
        sample.gt_instances = InstanceData(bboxes=torch.tensor([[8., 8., 90., 100.]]),
                                           labels=torch.tensor([1]))
    return image, sample
