"""The work-dir lock on its own; tools/train.py's refusal is in
tests/test_tools/test_train_faults.py."""
import os
import subprocess
import sys

import pytest

from rdimkd_mm.utils.work_dir_lock import WorkDirInUse, launch_rank, work_dir_lock


def test_a_held_lock_refuses_another_holder_and_is_released_on_exit(tmp_path):
    work = tmp_path / 'a' / 'work'
    with work_dir_lock(str(work)) as path:
        assert open(path).read().startswith(f'process {os.getpid()} on host ')
        # Another process is refused, naming this one.
        code = ('import sys\nfrom rdimkd_mm.utils.work_dir_lock import work_dir_lock\n'
                'with work_dir_lock(sys.argv[1]): pass')
        result = subprocess.run([sys.executable, '-c', code, str(work)], capture_output=True,
                                text=True)
        assert result.returncode != 0
        assert f'in use by another training run (process {os.getpid()} on host ' in \
            result.stderr
        with pytest.raises(WorkDirInUse):  # so is a second open in this process
            with work_dir_lock(str(work)):
                pass
    with work_dir_lock(str(work)):  # released
        pass


def test_launch_rank(monkeypatch):
    for key in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        monkeypatch.delenv(key, raising=False)
    assert launch_rank() == 0
    monkeypatch.setenv('SLURM_PROCID', '3')
    assert launch_rank() == 3
