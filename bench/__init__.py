"""Benchmarks: synth scale, handler cold start, deploy latency and throughput (``make bench``)."""
