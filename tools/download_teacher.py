"""Download a distillation config's zoo teacher, verify it, and check that it loads.

    python tools/download_teacher.py configs/rdimkd/coco/rdimkd-r_fpn_retinanet-r101_*.py
    python tools/download_teacher.py CONFIG [CONFIG ...] --mirror http://my-mirror/openmmlab

Finds the teacher's checkpoint in the installed mmdet/mmseg metafiles, downloads it to the
config's ``model.teacher_checkpoint`` (skipped where a verified copy is there), checks the
sha256 prefix in the zoo's file name, and loads it strictly into the teacher built from the
config. Exits non-zero, naming the fix, on the first config that fails.
"""
import argparse
import sys

from mmengine.config import Config, DictAction

import rdimkd_mm  # noqa: F401
from rdimkd_mm.zoo import ZooError, fetch_teacher


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fetch and check a distillation config's "
                                     'zoo teacher')
    parser.add_argument('configs', nargs='+', help='distillation config file(s)')
    parser.add_argument('--metafile', nargs='+', dest='metafiles',
                        help='search these metafiles (mmdet format) instead of the installed '
                        "mmdet/mmseg's, e.g. for teachers of your own zoo")
    parser.add_argument('--mirror', help='a server with the zoo files under the same paths, '
                        'in place of https://download.openmmlab.com')
    parser.add_argument('--force', action='store_true',
                        help='download again even where a verified file is there')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings (e.g. model.teacher_checkpoint=PATH)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    for path in args.configs:
        cfg = Config.fromfile(path)
        if args.cfg_options is not None:
            cfg.merge_from_dict(args.cfg_options)
        try:
            got = fetch_teacher(cfg, args.metafiles, args.mirror, args.force)
        except ZooError as error:
            sys.exit(f'{path}: {error}')
        print(f'{path}: teacher {got.entry.name} ready at {got.path} '
              f'({"downloaded" if got.downloaded else "already there"}, sha256 '
              f'{got.entry.sha256_prefix}..., {got.tensors} tensors load strictly)', flush=True)


if __name__ == '__main__':
    main()
