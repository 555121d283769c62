"""Batch work at volume (批量): re-settlement of files of claims by person on Dask,
policy simulation, synthetic years and clearing from millions of settlement rows.

A face over the engine, the inputs and the clearing concept; the command line mounts it
(``yibao batch``). Heavy libraries (pyarrow, polars, dask) are imported only here, never by
``yibao --help``.
"""
