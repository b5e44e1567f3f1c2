"""Benchmarks behind `halo bench …`: each prints the numbers docs/performance.md quotes."""
