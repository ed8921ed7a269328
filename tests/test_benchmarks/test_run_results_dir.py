"""benchmarks/run.py with a --results-dir outside the repository: the runs (stubbed here)
write there and the closing message names it, instead of a relative_to traceback after every
run has trained."""
import sys

from benchmarks import run


def test_results_dir_outside_the_repository(tmp_path, monkeypatch, capsys):
    out = tmp_path / 'results'
    written = []
    monkeypatch.setattr(run, 'make_data', lambda tasks: None)
    monkeypatch.setattr(run, 'run_quality', lambda args, mode, results, command:
                        written.append(('quality', results)))
    monkeypatch.setattr(run, 'run_cost', lambda args, mode, results, command:
                        written.append(('cost', results)))
    monkeypatch.setattr(sys, 'argv', ['benchmarks/run.py', '--quick', '--tasks', 'det',
                                      '--parts', 'quality', '--results-dir', str(out)])
    run.main()
    assert written == [('quality', out)] and out.is_dir()
    assert capsys.readouterr().out.rstrip().endswith(f'; results in {out}/')
