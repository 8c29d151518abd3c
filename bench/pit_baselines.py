"""The point-in-time join (DESIGN §7.2) as a pandas or polars user writes it, for `npm run bench`.

Usage: python pit_baselines.py <pandas|polars> <dir> <reps>
Reads <dir>/panel.parquet and <dir>/fundamentals.parquet (the vendor's rows as of the run's
asOf, corrections applied: what Hippo's lake loader gives the step), times the join `reps`
times after one warm-up (inputs already in memory, as for bare DuckDB), writes the last
answer to <dir>/<engine>.parquet and prints {"runs_s": [...], "files_runs_s": [...]} as
JSON. `files_runs_s` times the whole job as Hippo's step does it, file to file: read both
Parquet inputs, join, write the answer as Parquet (zstd).

The rule: a row is available when published (a date-only row at the end of its day in New
York); a row counts only if no row available before it has a later period (an old period's
restatement never replaces a newer one); of rows available at one instant the last in
(period_end, recorded_at, value) order wins; the panel date sees what was available by its
16:00 close in New York. One backward as-of join per field.
"""
import json
import sys
import time

TZ = "America/New_York"
FIELDS = ["eps", "revenue", "book_value", "net_income"]


def pandas_join(panel, fundamentals):
    import pandas as pd

    f = fundamentals.assign(period_end=pd.to_datetime(fundamentals["period_end"]))
    date_only = f["published_at"].str.len() == 10
    avail = pd.Series(pd.NaT, index=f.index, dtype="datetime64[ns, UTC]")
    day_end = pd.to_datetime(f.loc[date_only, "published_at"]) + pd.Timedelta(days=1)
    avail[date_only] = day_end.dt.tz_localize(TZ).dt.tz_convert("UTC")
    avail[~date_only] = pd.to_datetime(f.loc[~date_only, "published_at"], utc=True)
    f = f.assign(avail=avail).sort_values(["sid", "field", "avail", "period_end", "recorded_at", "value"], kind="stable")
    g = f.groupby(["sid", "field"], sort=False)
    prev_max = g["period_end"].cummax().groupby([f["sid"], f["field"]]).shift(1)
    keep = prev_max.isna() | (f["period_end"] >= prev_max)
    last_at_instant = f["avail"].ne(g["avail"].shift(-1))
    changes = f[keep & last_at_instant]

    dates = pd.DataFrame({"date": panel["date"].unique()})
    dates["cutoff_at"] = (pd.to_datetime(dates["date"]) + pd.Timedelta(hours=16)).dt.tz_localize(TZ).dt.tz_convert("UTC")
    out = panel.merge(dates, on="date", how="left")
    out["_order"] = range(len(out))
    out = out.sort_values("cutoff_at", kind="stable")
    for name in FIELDS:
        right = changes.loc[changes["field"] == name, ["sid", "avail", "value"]].rename(columns={"value": name}).sort_values("avail", kind="stable")
        out = pd.merge_asof(out, right, left_on="cutoff_at", right_on="avail", by="sid", direction="backward", allow_exact_matches=True).drop(columns="avail")
    return out.sort_values("_order").drop(columns=["_order", "cutoff_at"]).reset_index(drop=True)


def polars_join(panel, fundamentals):
    import polars as pl

    f = fundamentals.with_columns(
        pl.when(pl.col("published_at").str.len_chars() == 10)
        .then((pl.col("published_at").str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")) + pl.duration(days=1)).dt.replace_time_zone(TZ).dt.convert_time_zone("UTC"))
        .otherwise(pl.col("published_at").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC", time_unit="us", strict=False))
        .alias("avail")
    ).sort(["sid", "field", "avail", "period_end", "recorded_at", "value"])
    changes = f.with_columns(
        pl.col("period_end").cum_max().shift(1).over(["sid", "field"]).alias("prev_max"),
        (pl.col("avail") != pl.col("avail").shift(-1).over(["sid", "field"])).fill_null(True).alias("last_at_instant"),
    ).filter((pl.col("prev_max").is_null() | (pl.col("period_end") >= pl.col("prev_max"))) & pl.col("last_at_instant"))

    dates = panel.select("date").unique().with_columns(
        (pl.col("date").cast(pl.Datetime("us")) + pl.duration(hours=16)).dt.replace_time_zone(TZ).dt.convert_time_zone("UTC").alias("cutoff_at")
    )
    out = panel.with_row_index("_order").join(dates, on="date", how="left").sort("cutoff_at")
    for name in FIELDS:
        right = changes.filter(pl.col("field") == name).select("sid", "avail", pl.col("value").alias(name)).sort("avail")
        out = out.join_asof(right, left_on="cutoff_at", right_on="avail", by="sid", strategy="backward").drop("avail")
    return out.sort("_order").drop("_order", "cutoff_at")


def main():
    engine, folder, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if engine == "pandas":
        import pandas as pd

        read = pd.read_parquet
        join = pandas_join
        write = lambda df, path: df.to_parquet(path, index=False, compression="zstd")
    else:
        import polars as pl

        read = pl.read_parquet
        join = polars_join
        write = lambda df, path: df.write_parquet(path, compression="zstd")
    panel = read(f"{folder}/panel.parquet")
    fundamentals = read(f"{folder}/fundamentals.parquet")
    runs = []
    out = None
    for rep in range(reps + 1):
        started = time.perf_counter()
        out = join(panel, fundamentals)
        if rep > 0:
            runs.append(time.perf_counter() - started)
    write(out, f"{folder}/{engine}.parquet")
    files_runs = []
    for rep in range(reps):
        started = time.perf_counter()
        write(join(read(f"{folder}/panel.parquet"), read(f"{folder}/fundamentals.parquet")), f"{folder}/{engine}-files.parquet")
        files_runs.append(time.perf_counter() - started)
    print(json.dumps({"runs_s": runs, "files_runs_s": files_runs, "rows": len(out)}))


if __name__ == "__main__":
    main()
