"""Decode time of one result in three formats, read by pyarrow, for `npm run bench`.

Usage: python formats_decode.py <reps> <arrow> <parquet> <csv.gz>
Reads each file `reps` times after one warm-up (the OS file cache holds it then, as after a
download) into a pyarrow Table: the Arrow IPC stream with pa.ipc.open_stream (ZSTD bodies
decompressed), the Parquet with pq.read_table, the gzipped CSV with pyarrow.csv.read_csv
(gunzip + parse + type inference, both cores). Prints one JSON line: per format the times,
the row count and a fingerprint (the sum of every floating-point column) to check that the
three hold the same data.
"""
import json
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def read_arrow(path):
    with pa.OSFile(path, "rb") as f:
        return pa.ipc.open_stream(f).read_all()


READERS = {"arrow": read_arrow, "parquet": pq.read_table, "csv_gzip": pacsv.read_csv}


def fingerprint(table):
    sums = {}
    for field in table.schema:
        if pa.types.is_floating(field.type) or pa.types.is_integer(field.type):
            sums[field.name] = pc.sum(table[field.name]).as_py() or 0
    return sums


def main():
    reps = int(sys.argv[1])
    paths = dict(zip(READERS, sys.argv[2:5]))
    out = {}
    for fmt, path in paths.items():
        read = READERS[fmt]
        runs = []
        table = None
        for rep in range(reps + 1):
            started = time.perf_counter()
            table = read(path)
            if rep > 0:
                runs.append(time.perf_counter() - started)
        out[fmt] = {"runs_s": runs, "rows": table.num_rows, "sums": fingerprint(table)}
        del table
    print(json.dumps(out))


if __name__ == "__main__":
    main()
