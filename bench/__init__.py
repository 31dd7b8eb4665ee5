"""Readalong's benchmarks: ``python -m bench [name ...]`` (``make bench`` runs them all).

Every module in this package with a ``run(args) -> dict`` function is a benchmark named
after the module; see :mod:`bench.__main__`. Shared helpers live in :mod:`bench.common`;
server processes, settings and scratch databases come from :mod:`tests.process_helpers`,
which the tests use too.
"""
