"""Performance harness: data generator, load test and results (see bench/README.md)."""
