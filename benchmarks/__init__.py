"""evalflow's benchmarks: bench.py (a cycle's cost against the floor of its storage) and
bench_import.py (spreadsheet imports), each run as a script."""
