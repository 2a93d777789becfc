"""Reference implementations the benchmarks measure the warehouse against."""
