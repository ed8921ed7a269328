"""Write a distillation config for a teacher-student pair as config text."""
import os.path as osp
import textwrap
from typing import Any, List

from rdimkd_mm.utils import pretrained_inits
from .defaults import default_hooks, default_loss, method_name
from .side import Side, describe_levels

#: The fit hook a config names (commented out) when the default needs none.
FIT_HOOK = "dict(type='rdimkd_mm.FitProjectionsHook', num_batches=20)"


def plain(value: Any) -> Any:
    """A config value without ConfigDict wrappers, to print it as config text."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def value_text(value: Any) -> str:
    """A config value as config text: dicts as ``dict(key=value, ...)``, as configs write them."""
    if isinstance(value, dict):
        return 'dict(' + ', '.join(f'{k}={value_text(v)}' for k, v in value.items()) + ')'
    return repr(value)


def pretrained_lines(model_cfg: dict, path: str = "model['student']") -> List[str]:
    """Assignments that switch off every pretrained initialisation in a model config."""
    return [path + ''.join(f"['{key}']" for key in keys) + f' = None  # was {plain(value)!r}'
            for keys, value in pretrained_inits(model_cfg).items()]


def point_text(point: dict, loss: dict, teacher: Side, student: Side) -> str:
    """One ``distill`` entry: the point's addresses (with their levels) and the default loss."""
    args = [f'{key}={value_text(value)},' for key, value in loss.items()]  # type, ...
    if point.get('align'):
        args.insert(2, "align='interpolate',  # strides differ: the student's map is resized")
    args[-1] = args[-1][:-1] + ')),'
    t_levels = describe_levels(teacher.point_levels(point['teacher']))
    s_levels = describe_levels(student.point_levels(point['student']))
    return (f"        dict(\n            name='{point['name']}',\n"
            f"            teacher='{point['teacher']}',  # {t_levels}\n"
            f"            student='{point['student']}',  # {s_levels}\n"
            '            loss=dict(\n' + '\n'.join(' ' * 16 + arg for arg in args))


def hooks_text(student: Side, needed: List[dict]) -> str:
    """The ``custom_hooks`` lines: the default's fit hook, or a comment on when to add one."""
    fit_hook = ', '.join(map(value_text, needed)) or FIT_HOOK
    hooks = (f'_base_.custom_hooks + [{fit_hook}]' if student.cfg.get('custom_hooks') else
             f'[{fit_hook}]')
    if needed:
        return ('# The measured default fits its projection before training (README, "Loss '
                f'scale"):\ncustom_hooks = {hooks}\n')
    return ('# The measured default (README, "Loss scale"): nothing to fit before training. '
            'For\n# RdimKD-P/-A (PCAProjection/AutoencoderProjection) or '
            "normalize='teacher', fit\n"
            f'# before training with:\n# custom_hooks = {hooks}\n')


def config_text(teacher: Side, student: Side, points: List[dict], out_path: str,
                checkpoint: str, note: str = '') -> str:
    """A distillation config that ``tools/train.py`` runs as it is, to be written to
    ``out_path``: the student config as ``_base_``, the default's loss at ``points``, its
    hooks, the inspector's probe size as the distiller's ``probe_size`` (its build probe then
    sees the image the points were found on), and the student's pretrained initialisation
    switched off.

    Args:
        teacher (Side): The teacher.
        student (Side): The student.
        points (list[dict]): Points from :func:`propose_points`.
        out_path (str): Where the config will be written (local paths are relative to it).
        checkpoint (str): The trained teacher's weights the config names.
        note (str): Why a point of the default is left out (:func:`proposal_note`), written
            as a comment; ``''`` for none.
    """
    out_dir = osp.dirname(osp.abspath(out_path))
    # Local paths relative to the written config, as _base_ is (mmengine's {{fileDirname}}).
    base = student.spec if '::' in student.spec else osp.relpath(student.spec, out_dir)
    teacher_spec = teacher.spec if '::' in teacher.spec else (
        '{{fileDirname}}/' + osp.relpath(teacher.spec, out_dir))
    loss = default_loss(student.scope)
    distill = [point_text(point, loss, teacher, student) for point in points]
    init = pretrained_lines(student.cfg.model.to_dict())
    init_text = ''
    if init:
        init_text = ('\n# The student starts from random weights, so nothing is downloaded. To '
                     'start it from\n# the pretrained weights its config names, delete these '
                     'lines:\n' + '\n'.join(init) + '\n')
    note_text = ''.join(f'# {line}\n' for line in textwrap.wrap(note, 96))
    return (f'# {method_name(loss)}: distil {teacher.spec} into {student.spec}.\n'
            f'# Written by tools/inspect_pair.py; points matched by stride on a probe image.\n'
            + note_text +
            f"_base_ = ['{base}']  # the student: data, schedule, evaluator\n\n"
            'model = dict(\n    _delete_=True,\n    type=\'rdimkd_mm.FeatureDistiller\',\n'
            '    student=_base_.model,\n'
            f"    teacher='{teacher_spec}',\n"
            f"    teacher_checkpoint='{checkpoint}',  # the trained teacher's weights\n"
            f'    probe_size={student.size},  # (H, W) of the build-time probe, as inspected\n'
            '    distill=[\n' + '\n'.join(distill) + '\n    ])\n'
            + hooks_text(student, default_hooks(student.scope)) + init_text)
