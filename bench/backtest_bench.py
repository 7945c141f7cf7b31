"""Full-backtest throughput (events/s) on the real data, from the sources and from converted
event files, in one run. Usage: .venv/bin/python bench/backtest_bench.py [--repeat 5]

Each figure is ``Backtest.run()`` (the C++ loop: exchange and local books, queue and latency
models, strategy, recording, metrics), best of N; the constructor's market-profile pre-scan is
not included. Data from MMKIT_DATA_DIR (default ../shared/data).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import mmkit
from mmkit.backtest import latency_override

ROOT = Path(__file__).resolve().parents[1]
# 2012-06-21 10:00 / 11:00 / 12:00 ET: a few orders for the order-list replayer on AMZN.
AMZN_ORDERS = """ts_ns,side,price,qty,type,tif
1340287200000000000,buy,224.17,100,limit,gtc
1340287200000000000,sell,224.35,100,limit,post_only
1340290800000000000,buy,225.20,100,market,ioc
1340294400000000000,sell,223.78,200,limit,ioc
"""


def cases(d: Path, tmp: Path):
    orders = tmp / "amzn_orders.csv"
    orders.write_text(AMZN_ORDERS)
    cfg = ROOT / "configs"
    btc = [d / "binance_l2/usdm/btcusdt_20240808.gz"]
    return [
        ("GLFT, BTCUSDT USD-M 0808, prob-power-2", btc, dict(config=cfg / "glft.toml", engine={"queue_model": "prob-power-2"})),
        ("GLFT, BTCUSDT USD-M 0808, risk-averse", btc, dict(config=cfg / "glft.toml", engine={"queue_model": "risk-averse"})),
        ("A-S, LOBSTER GOOG L10 (L3 FIFO)", [d / "lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"],
         dict(config=cfg / "avellaneda_stoikov.toml")),
        ("spread quoter, CME ESH4 MBO (L3 FIFO)", [d / "cme_mbo/esh4-glbx-mdp3-20231225.mbo.csv.gz"],
         dict(config=cfg / "spread_quoter.toml")),
        ("order list, LOBSTER AMZN L5, zero latency", [d / "lobster/LOBSTER_SampleFile_AMZN_2012-06-21_5.zip"],
         dict(config=cfg / "order_list.toml", params={"orders": str(orders)}, engine=latency_override(0))),
        ("GLFT, synthetic market (30 min)", None, dict(strategy="glft")),
    ]


def best_rate(data, repeat: int, kw: dict) -> tuple[int, float]:
    best, events = float("inf"), 0
    for _ in range(repeat):
        bt = mmkit.Backtest(data, **kw)
        t = time.perf_counter()
        bt.run()
        best = min(best, time.perf_counter() - t)
        events = bt.events_processed
    return events, events / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    d = mmkit.data_dir()
    print("| run | events | source: M events/s | converted .mmk: M events/s |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="mmkit-bt-bench-") as t:
        tmp = Path(t)
        for label, src, kw in cases(d, tmp):
            if src is None:
                ev, rate = best_rate(None, args.repeat, kw)
                print(f"| {label} | {ev:,} | {rate / 1e6:.2f} (generated in the loop) | — |")
                continue
            if not all(p.exists() for p in src):
                print(f"| {label} | skipped: data not found under {d} | | |")
                continue
            mmk = tmp / (src[0].name + ".mmk")
            mmkit.convert(src, mmk)
            ev, rate_src = best_rate(src, args.repeat, kw)
            _, rate_mmk = best_rate([mmk], args.repeat, kw)
            print(f"| {label} | {ev:,} | {rate_src / 1e6:.2f} | {rate_mmk / 1e6:.2f} |")


if __name__ == "__main__":
    main()
