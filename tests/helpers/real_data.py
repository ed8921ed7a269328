"""Stand-ins for the real data sets, in their real layouts (COCO 2017, Cityscapes), and the
options that run a shipped real config without its pretrained downloads."""
from pathlib import Path
from typing import List, Tuple

from mmengine.config import Config

from rdimkd_mm.utils import pretrained_inits
from synthetic import generate_cityscapes_segmentation, generate_coco_detection, to_coco2017_layout
from helpers.paths import REPO_ROOT


def coco_stand_in(root: Path, image_size: Tuple[int, int], num_train: int,
                  num_val: int) -> Path:
    """Synthetic images of ``image_size`` (H, W) in the COCO 2017 layout (``train2017/``,
    ``val2017/``, ``annotations/instances_{train,val}2017.json``) under ``root``."""
    generate_coco_detection(str(root), num_train=num_train, num_val=num_val,
                            image_size=image_size, progress=False)
    to_coco2017_layout(str(root))
    return root


def cityscapes_stand_in(root: Path, image_size: Tuple[int, int], num_train: int,
                        num_val: int) -> Path:
    """Synthetic street scenes of ``image_size`` (H, W) in the Cityscapes layout
    (``leftImg8bit/{train,val}/<city>/``, ``gtFine/{train,val}/<city>/``) under ``root``."""
    generate_cityscapes_segmentation(str(root), num_train=num_train, num_val=num_val,
                                     image_size=image_size, progress=False)
    return root


def no_pretrained_download(config: str) -> List[str]:
    """``--cfg-options`` that switch off the pretrained initialisation of the student of the
    distillation config ``config`` (relative to the repository): nothing is downloaded."""
    student = Config.fromfile(str(REPO_ROOT / config)).model.student
    return [f'model.student.{".".join(k)}=None' for k in pretrained_inits(student)]
