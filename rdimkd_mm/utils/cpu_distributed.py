"""Multi-process training and testing on CPU-only machines (gloo), through the users' launcher.

mmengine's ``pytorch`` launcher assumes GPUs: it calls ``torch.cuda.set_device``, defaults to
NCCL and gives ``MMDistributedDataParallel`` ``device_ids=[LOCAL_RANK]``. On a machine without
CUDA, :func:`prepare_cpu_distributed` starts the process group with gloo itself (the Runner then
skips its own start) and wraps the model without device ids. With CUDA it changes nothing.
"""
import atexit
import datetime
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

#: The variables torchrun (``tools/dist_train.sh``) sets for every rank.
_TORCHRUN_ENV = ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')


def prepare_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Start a gloo process group for ``launcher`` when no GPU is present.

    Args:
        cfg: The config the Runner is built from; its ``env_cfg.dist_cfg.backend`` becomes
            ``'gloo'`` and its ``model_wrapper_cfg`` gets ``device_ids=None``.
        launcher: ``--launcher`` of the tool ('none', 'pytorch', 'slurm' or 'mpi').

    Returns:
        bool: Whether a CPU process group was started here.

    Raises:
        RuntimeError: for a CPU launch other than torchrun's, or a torchrun environment that
            lacks a variable.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs GPUs (mmengine sets a CUDA device per rank), and this '
            'machine has none. On CPU, start the ranks with torchrun: '
            '`bash tools/dist_train.sh CONFIG NUM_PROCESSES` (or tools/dist_test.sh).')
    missing = [name for name in _TORCHRUN_ENV if name not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch: {", ".join(missing)} not set. Start the ranks with torchrun, '
            'e.g. `bash tools/dist_train.sh CONFIG NUM_PROCESSES`.')
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        timeout = dist_cfg.get('timeout')
        torch_dist.init_process_group(
            backend='gloo',
            timeout=None if timeout is None else datetime.timedelta(seconds=timeout))
        # Left to interpreter shutdown, gloo's threads can abort the process (SIGABRT,
        # "terminate called without an active exception") after the run has succeeded. A run
        # that succeeds leaves through finish_cpu_distributed(); this is for one that fails.
        atexit.register(_destroy_process_group)
    # As the Runner's default wrapper, less the CUDA device (a CPU module takes no device ids).
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True


def finish_cpu_distributed(started: bool) -> None:
    """Leave the process group :func:`prepare_cpu_distributed` started, all ranks together.

    Every rank waits at a barrier, then destroys the group, so that no rank tears its gloo
    connections down while another is still finishing (rank 0 writes the results and logs).
    Without the barrier, a CI run saw rank 1 aborted (SIGABRT) at the end of a successful
    ``tools/dist_test.sh`` run while rank 0 was still running.

    Args:
        started: What :func:`prepare_cpu_distributed` returned; nothing is done when False.
    """
    if started and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def _destroy_process_group() -> None:
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()
