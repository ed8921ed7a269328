"""Generate the synthetic detection (COCO) or segmentation (Cityscapes) set.

Examples::

    python tools/make_synthetic_data.py det data/synthetic_coco
    python tools/make_synthetic_data.py seg data/synthetic_cityscapes \
        --num-train 200 --num-val 50 --seed 0 --image-size 256 512
    python tools/make_synthetic_data.py det data/coco --coco-layout --image-size 800 1333
"""
import argparse

from synthetic import generate_cityscapes_segmentation, generate_coco_detection, to_coco2017_layout

DEFAULTS = {
    'det': dict(num_train=400, num_val=100, image_size=(256, 256)),
    'seg': dict(num_train=200, num_val=50, image_size=(256, 512)),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a deterministic synthetic dataset: shapes in '
        'the COCO format (det) or street scenes in the Cityscapes format '
        '(seg).')
    parser.add_argument('task', choices=sorted(DEFAULTS))
    parser.add_argument('out_dir', help='output root directory')
    parser.add_argument(
        '--num-train', type=int, help='training images (det 400, seg 200)')
    parser.add_argument(
        '--num-val', type=int, help='validation images (det 100, seg 50)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='image height and width (det 256 256, seg 256 512)')
    parser.add_argument(
        '--coco-layout', action='store_true',
        help='det: the COCO 2017 layout the shipped COCO configs read (train2017/, '
        'annotations/instances_train2017.json, COCO category names), a stand-in for data/coco')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.coco_layout and args.task != 'det':
        raise SystemExit('--coco-layout is for det: the seg set is already in the Cityscapes '
                         'layout')
    kwargs = dict(DEFAULTS[args.task])
    for key in ('num_train', 'num_val', 'image_size'):
        if getattr(args, key) is not None:
            kwargs[key] = getattr(args, key)
    kwargs.update(seed=args.seed, progress=not args.no_progress)
    if args.task == 'det':
        summary = generate_coco_detection(args.out_dir, **kwargs)
        if args.coco_layout:
            to_coco2017_layout(args.out_dir)
        counts = ', '.join(f"{split} {summary[split]['num_images']} images / "
                           f"{summary[split]['num_annotations']} boxes"
                           for split in ('train', 'val'))
    else:
        summary = generate_cityscapes_segmentation(args.out_dir, **kwargs)
        counts = ', '.join(f"{split} {summary[split]['num_images']} images"
                           for split in ('train', 'val'))
    height, width = kwargs['image_size']
    print(f'{args.task}: {counts} ({height}x{width}, seed {args.seed}) '
          f'-> {args.out_dir}')


if __name__ == '__main__':
    main()
