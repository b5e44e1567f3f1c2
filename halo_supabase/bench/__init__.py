"""Benchmarks behind `halo bench …`: each prints the numbers the README quotes."""
