"""The ``mmkit`` command (a thin front over the C++ core).

    mmkit backtest [DATA...]         market-making backtest (synthetic market without DATA)
    mmkit inspect DATA...            instrument, time span, event counts, tolerated counts
    mmkit paper NAME                 the classic papers reproduced (A-S 2008, GLFT 2013, A-C 2001)
    mmkit calibrate-flow DATA --out params.toml   fit the synthetic order flow to real data
    mmkit convert SRC... --out FILE  normalized binary event file (.mmk), plain or --compress
    mmkit book DATA... --csv OUT     the book after every K-th source record
    mmkit verify DATA...             the rebuilt book against the venue's own
    mmkit bench replay DATA...       book replay throughput (events/s)
    mmkit candles backtest FILE      candle backtest + sweeps (lower fidelity; docs/candle_backtest.md)
    mmkit rl train|evaluate          PPO market maker on the C++ RL environments (docs/rl.md)

DATA is one or more files read as one stream, in any supported format (``docs/formats.md``).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

import mmkit
from mmkit import _core

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="mmkit: market-making engine (C++ core). Data formats: docs/formats.md.")
bench_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help="Benchmarks.")
app.add_typer(bench_app, name="bench")

console = Console()
err_console = Console(stderr=True)

InstrumentOpt = typer.Option("", "--instrument", help="Symbol to select (Databento files with several).")
PublisherOpt = typer.Option(-1, "--publisher", help="Databento publisher id (default: 39 for DBEQ, the only L3 one).")
TickOpt = typer.Option(0, "--tick-size", help="Raw tick override (0: from the format or inferred).")


def _fmt_ts(ns: int) -> str:
    if ns is None or ns < -(2**62):
        return "-"
    secs, frac = divmod(int(ns), 1_000_000_000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(secs)) + f".{frac:09d} UTC"


@app.command("backtest")
def backtest_cmd(
    data: Optional[List[Path]] = typer.Argument(None, help="Market data file(s), read as one stream; none: the embedded synthetic market."),
    strategy: Optional[str] = typer.Option(None, "--strategy", "-s", help="avellaneda-stoikov, glft, spread-quoter or order-list (default: the config's, else glft)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML config (configs/README.md)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output directory (metrics.json, fills.csv, orders.csv, timeseries.csv, config, report.html)."),
    orders: Optional[Path] = typer.Option(None, "--orders", help="Order list CSV for --strategy order-list (ts_ns,side,price,qty,type[,tif])."),
    latency: Optional[float] = typer.Option(None, "--latency", help="Order entry and response latency, ms each; 0 = no latency at all."),
    queue_model: Optional[str] = typer.Option(None, "--queue-model", help="L2 queue model: risk-averse, prob-power-N, prob-log."),
    maker_fee: Optional[float] = typer.Option(None, "--maker-fee", help="Maker fee, bps (negative = rebate)."),
    taker_fee: Optional[float] = typer.Option(None, "--taker-fee", help="Taker fee, bps."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed of every random draw (latency, queue, synthetic market)."),
    instrument: str = InstrumentOpt,
    publisher: int = PublisherOpt,
) -> None:
    """Backtest a market-making strategy on real order-book data (or the synthetic market)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from mmkit.backtest import Backtest, latency_override

    engine: dict = {}
    if latency is not None:
        engine.update(latency_override(latency))
    if queue_model is not None:
        engine["queue_model"] = queue_model
    if maker_fee is not None:
        engine["maker_fee_bps"] = maker_fee
    if taker_fee is not None:
        engine["taker_fee_bps"] = taker_fee
    if seed is not None:
        engine["seed"] = seed
    params = {"orders": str(orders)} if orders is not None else None
    source = {}
    if instrument:
        source["instrument"] = instrument
    if publisher >= 0:
        source["publisher"] = publisher
    synthetic = {"seed": seed} if (seed is not None and not data) else None
    t0 = time.perf_counter()
    bt = Backtest(data or None, config=config, strategy=strategy, params=params, engine=engine,
                  synthetic=synthetic, source=source)
    with Progress(SpinnerColumn(), TextColumn("[bold]backtest[/bold] {task.description}"), BarColumn(),
                  TextColumn("{task.fields[events]:,} events"), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=not err_console.is_terminal) as prog:
        task = prog.add_task(bt.config["strategy"]["name"], total=None, events=0)
        bt.run(progress=lambda n: prog.update(task, events=n))
    res = bt.results()
    console.print(res.summary_table())
    wall = time.perf_counter() - t0
    ev = res.run_info["events"]
    console.print(f"[dim]{ev:,} events in {wall:.2f} s ({ev / wall:,.0f} events/s, wall clock incl. set-up)[/dim]")
    if out is not None:
        res.write(out)
        console.print(f"[green]wrote[/green] {out}/ (metrics.json, fills.csv, orders.csv, timeseries.csv, config, report.html)")


@app.command("portfolio")
def portfolio_cmd(
    data: List[Path] = typer.Argument(..., help="Market data file(s) of the quoted instrument, read as one stream."),
    hedge_with: Optional[List[Path]] = typer.Option(None, "--hedge-with", help="Data file(s) of the hedge instrument (repeat for several files); none: the quoted leg alone."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Portfolio TOML config (configs/hedge.toml)."),
    strategy: Optional[str] = typer.Option(None, "--strategy", "-s", help="Quoting strategy of the first leg (default: the config's, else glft)."),
    funding: Optional[str] = typer.Option(None, "--funding", help="Engine funding of both legs: none, constant or a funding file path."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output directory (metrics.json, samples.csv, report.html, legs/<i>_<name>/)."),
) -> None:
    """Multi-instrument backtest: quote one instrument and hedge its inventory on another (docs/hedging.md)."""
    from mmkit.portfolio import hedged_backtest

    engine = {"funding": funding} if funding is not None else None
    hedge_engine = {"funding": funding} if funding is not None else None
    t0 = time.perf_counter()
    res = hedged_backtest(data, hedge_with=hedge_with or None, config=config, strategy=strategy, engine=engine,
                          hedge_engine=hedge_engine)
    console.print(res.summary_table())
    console.print(f"[dim]{time.perf_counter() - t0:.2f} s wall clock[/dim]")
    if out is not None:
        res.write(out)
        console.print(f"[green]wrote[/green] {out}/ (metrics.json, samples.csv, report.html, legs/)")


@app.command("paper")
def paper_cmd(
    name: str = typer.Argument(..., help="avellaneda-stoikov-2008, glft-2013 or almgren-chriss-2001."),
    seed: int = typer.Option(1, "--seed", help="Monte Carlo seed (avellaneda-stoikov-2008)."),
    as_json: bool = typer.Option(False, "--json", help="Print the reproduction as JSON."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write NAME.json (and, for almgren-chriss-2001, frontier.csv, trajectories.csv, an HTML plot) here."),
    paths: Optional[int] = typer.Option(None, "--paths", help="Monte Carlo paths (avellaneda-stoikov-2008; default 1000)."),
) -> None:
    """Reproduce a classic paper's numbers (sources and equations: docs/papers.md)."""
    from mmkit.papers import paper_cmd as run
    run(name, seed, as_json, out, paths)


@app.command("inspect")
def inspect_cmd(
    data: List[Path] = typer.Argument(..., help="Input file(s), read as one stream."),
    instrument: str = InstrumentOpt,
    publisher: int = PublisherOpt,
    tick_size: int = TickOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Print the instrument, time span, event counts per kind and what the reader tolerated.

    Candle and funding-rate files are summarized too (rows, span, interval, gaps)."""
    try:
        s = mmkit.inspect(data, instrument=instrument, publisher=publisher, tick_size=tick_size)
    except mmkit.Error as e:
        if "unrecognized input format" not in str(e) or len(data) != 1 or not _inspect_series(data[0], as_json):
            raise
        return
    if as_json:
        print(json.dumps(s, indent=2))
        return
    ins = s["instrument"]
    t = Table(title=f"{', '.join(str(p) for p in data)}", show_header=False, title_justify="left")
    t.add_row("format", f"{s['format']} ({s['book_level']})")
    t.add_row("instrument", f"{ins['symbol']} @ {ins['venue']} ({ins['currency']}), id {ins['instrument_id']}")
    t.add_row("tick / lot", f"{ins['tick_size_decimal']} / {ins['lot_size_decimal']}  "
              f"(raw scale 1e-{ins['price_decimals']} / 1e-{ins['qty_decimals']})")
    t.add_row("exchange time", f"{_fmt_ts(s['first_exch_ts_ns'])} -> {_fmt_ts(s['last_exch_ts_ns'])}")
    t.add_row("local time", f"{_fmt_ts(s['first_local_ts_ns'])} -> {_fmt_ts(s['last_local_ts_ns'])}")
    t.add_row("records", f"{s['records']:,}")
    t.add_row("events", f"{s['events']:,}")
    console.print(t)
    k = Table(title="events per kind", title_justify="left")
    k.add_column("kind")
    k.add_column("count", justify="right")
    for name, n in s["kinds"].items():
        if n:
            k.add_row(name, f"{n:,}")
    for name in ("snapshot_events", "seed_events", "complete_points", "bad_ts_events"):
        k.add_row(f"[dim]{name}[/dim]", f"{s[name]:,}")
    console.print(k)
    c = Table(title="tolerated (counted, not fatal)", title_justify="left")
    c.add_column("counter")
    c.add_column("count", justify="right")
    for name, n in s["tolerated"].items():
        c.add_row(name, f"{n:,}")
    if not s["tolerated"]:
        c.add_row("[dim](none)[/dim]", "0")
    console.print(c)


def _inspect_series(path: Path, as_json: bool) -> bool:
    """Summarizes a candle or funding file; False if it is neither."""
    for reader in (mmkit.read_candles, mmkit.read_funding):
        try:
            df = reader(path)
        except mmkit.Error:
            continue
        info = {"kind": "candles" if reader is mmkit.read_candles else "funding", "rows": len(df),
                "first": str(df.index[0]) if len(df) else None,
                "last": str(df.index[-1]) if len(df) else None,
                **{k: v for k, v in df.attrs.items() if k != "path"}}
        if as_json:
            print(json.dumps(info, indent=2, default=str))
        else:
            t = Table(title=str(path), show_header=False, title_justify="left")
            for k, v in info.items():
                t.add_row(k, f"{v:,}" if isinstance(v, int) else str(v))
            console.print(t)
        return True
    return False


@app.command("convert")
def convert_cmd(
    src: List[Path] = typer.Argument(..., help="Source file(s), read as one stream."),
    out: Path = typer.Option(..., "--out", help="Output event file (.mmk)."),
    compress: bool = typer.Option(False, "--compress/--plain",
                                  help="zstd-compressed blocks, or plain (memory-mapped, zero-copy)."),
    level: int = typer.Option(3, "--level", help="zstd level (with --compress)."),
    instrument: str = InstrumentOpt,
    publisher: int = PublisherOpt,
    tick_size: int = TickOpt,
) -> None:
    """Write a normalized binary event file (format: docs/event_file.md)."""
    t0 = time.perf_counter()
    r = mmkit.convert(src, out, compress=compress, level=level, instrument=instrument,
                      publisher=publisher, tick_size=tick_size)
    dt = time.perf_counter() - t0
    console.print(
        f"[green]wrote[/green] {out}: {r['events']:,} events from {r['records']:,} records "
        f"({r['source_format']}), {r['file_bytes'] / 1e6:.1f} MB"
        f"{' zstd' if compress else ' plain'}, in {dt:.2f} s")


@app.command("book")
def book_cmd(
    data: List[Path] = typer.Argument(..., help="Input file(s), read as one stream."),
    csv: Path = typer.Option(..., "--csv", help="Output CSV path ('-' for stdout)."),
    depth: int = typer.Option(10, "--depth", min=1, help="Levels per side."),
    every: int = typer.Option(1, "--every", min=1, help="A row after every K-th source record."),
    impl: str = typer.Option("auto", "--impl", help="Book implementation: auto, fast or naive."),
    instrument: str = InstrumentOpt,
    publisher: int = PublisherOpt,
    tick_size: int = TickOpt,
) -> None:
    """Write the book after every K-th source record (row i = record i with --every 1)."""
    t0 = time.perf_counter()
    r = mmkit.book_csv(data, csv, depth=depth, every=every, impl=impl, instrument=instrument,
                       publisher=publisher, tick_size=tick_size)
    dt = time.perf_counter() - t0
    if str(csv) != "-":
        err_console.print(
            f"[green]wrote[/green] {csv}: {r['rows']:,} rows, {r['records']:,} records, "
            f"{r['events']:,} events in {dt:.2f} s; final best bid {r['final_best_bid']} x "
            f"{r['final_best_bid_qty']}, best ask {r['final_best_ask']} x {r['final_best_ask_qty']}")


@app.command("verify")
def verify_cmd(
    data: List[Path] = typer.Argument(..., help="Input file(s), read as one stream."),
    instrument: str = InstrumentOpt,
    publisher: int = PublisherOpt,
    tick_size: int = TickOpt,
) -> None:
    """Rebuild the book and check it against the venue's own (LOBSTER orderbook rows, Binance
    bookTickers, Databento final book). Exit 1 on any mismatch."""
    from mmkit.verify import verify
    t0 = time.perf_counter()
    r = verify(data, instrument=instrument, publisher=publisher, tick_size=tick_size)
    dt = time.perf_counter() - t0
    t = Table(title=f"verify {', '.join(p.name for p in data)}", show_header=False, title_justify="left")
    t.add_row("check", r["check"])
    t.add_row("compared", f"{r['compared']:,}")
    style = "green" if r["mismatches"] == 0 else "red"
    t.add_row("mismatches", f"[{style}]{r['mismatches']:,}[/{style}]")
    t.add_row("events / records", f"{r['events']:,} / {r['records']:,}")
    t.add_row("crossed in pre-open (allowed)", f"{r['crossed_in_auction']:,}")
    t.add_row("final best bid / ask",
              f"{r['final_best_bid']} x {r['final_best_bid_qty']} / {r['final_best_ask']} x {r['final_best_ask_qty']}")
    t.add_row("time", f"{dt:.2f} s")
    console.print(t)
    if r["mismatches"]:
        raise typer.Exit(1)


@bench_app.command("replay")
def bench_replay_cmd(
    data: Optional[List[Path]] = typer.Argument(None, help="Input file(s), read as one stream."),
    repeat: int = typer.Option(5, "--repeat", min=1, help="Timed repetitions (best and median reported)."),
    impl: str = typer.Option("auto", "--impl", help="Book implementation: auto, fast or naive."),
    standard: bool = typer.Option(False, "--standard", help="Run the standard set on MMKIT_DATA_DIR."),
) -> None:
    """Book replay throughput in events/s (reader + book, one thread)."""
    from mmkit.bench import run_replay_bench
    run_replay_bench(data or [], repeat=repeat, impl=impl, standard=standard, console=console)


def _register_calibrate_flow() -> None:
    from mmkit.calibrate import calibrate_flow_cmd
    app.command("calibrate-flow",
                help="Fit the synthetic market to a real L3 file; compare simulated with real statistics.")(calibrate_flow_cmd)


_register_calibrate_flow()


rl_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                     help="Reinforcement learning: PPO on the C++ market environments (docs/rl.md).")
app.add_typer(rl_app, name="rl")


@rl_app.command("train")
def rl_train_cmd(
    env: str = typer.Option("model", "--env", help="Market: model, synthetic or replay."),
    data: Optional[Path] = typer.Option(None, "--data", help="Data file of the replay market."),
    steps: int = typer.Option(..., "--steps", min=1, help="Training env-steps."),
    out: Path = typer.Option(..., "--out", help="Output directory (model.zip, policy.json, train_info.json, checkpoints/, tb/)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="RL config TOML (configs/rl.toml)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Training seed (default: \\[env] seed)."),
    num_envs: Optional[int] = typer.Option(None, "--num-envs", min=1, help="Environments per C++ batch step (default: \\[env] num_envs)."),
    device: str = typer.Option("auto", "--device", help="torch device: auto (GPU when present), cpu or cuda."),
) -> None:
    """Train a PPO market maker (stable-baselines3) and export it for the C++ "rl-policy" strategy."""
    from mmkit.rl.training import train
    last = [0.0]

    def progress(n: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 10.0 or n >= total:
            last[0] = now
            err_console.print(f"[dim]rl train: {n:,} / {total:,} env-steps[/dim]")

    info = train(env, steps, out, config=config, data=data, seed=seed, num_envs=num_envs, device=device,
                 progress=progress)
    fr = info["final_mean_episode_reward"]
    console.print(f"[green]wrote[/green] {out}/ (model.zip, policy.json, train_info.json): {info['steps']:,} env-steps "
                  f"in {info['wall_time_s']:.1f} s ({info['env_steps_per_s']:,.0f} env-steps/s, {info['device']}), "
                  f"final mean episode reward {'-' if fr is None else f'{fr:.4f}'}")


@rl_app.command("evaluate")
def rl_evaluate_cmd(
    model_dir: Path = typer.Argument(..., help="Directory written by mmkit rl train."),
    env: Optional[str] = typer.Option(None, "--env", help="Market: model, synthetic or replay (default: the training one)."),
    data: Optional[Path] = typer.Option(None, "--data", help="Data file of the replay market (held-out data)."),
    episodes: Optional[int] = typer.Option(None, "--episodes", min=2, help="Episodes per seed and strategy (default: \\[evaluate] episodes)."),
    seeds: Optional[List[int]] = typer.Option(None, "--seeds", help="Evaluation seed(s), repeatable (default: \\[evaluate] seed)."),
    out: Path = typer.Option(..., "--out", help="Output directory (evaluation.json, evaluation.html)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="RL config TOML (default: the training config)."),
) -> None:
    """Compare the policy with Avellaneda-Stoikov, GLFT and the spread quoter on the same seeds."""
    from mmkit.rl.evaluation import evaluate
    evaluate(model_dir, kind=env, data=data, episodes=episodes, seeds=seeds, out=out, config=config, console=console)
    console.print(f"[green]wrote[/green] {out}/ (evaluation.json, evaluation.html)")


def _register_candles() -> None:
    from mmkit.candles import build_cli
    app.add_typer(build_cli(), name="candles")


_register_candles()


def main() -> None:
    try:
        app()
    except mmkit.Error as e:
        err_console.print(f"[red]error:[/red] {e}")
        sys.exit(2)


if __name__ == "__main__":
    main()
