"""Benchmarks for jupyter_mvc: commit, checkout and history at real model sizes, measured
against the physical floor (raw write/read/hash of the same bytes) and the plain
alternatives a user has (pickle.dump, torch.save, git add + commit), all in one process
run so ratios are fair on a noisy machine.

    python -m bench            # full sizes (1 GiB model, 10 000 versions), a few minutes
    python -m bench --smoke    # tiny sizes, seconds; CI runs this so the suite cannot rot

Prints a table and writes bench/results/latest.json.
"""
