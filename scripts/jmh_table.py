#!/usr/bin/env python3
"""Markdown tables from a JMH JSON result file (scripts/jmh.sh ... -rf json -rff FILE).

CompressionSweepBenchmark: one row per (layer, rho): the achieved rate, ms per call of each
pass (JMH's score +- its 99.9% error), the forward's counted GFLOP, effective GFLOP/s of each
pass and the plan's bytes (CountersProfiler's secondary results; run with -prof
dev.bandlimit.jmh.CountersProfiler). Other benchmarks: one row per benchmark and parameters.
Usage: scripts/jmh_table.py FILE.json
"""
import json
import sys


def main(path):
    data = json.load(open(path))
    sweep, other = {}, []
    for r in data:
        cls, method = r["benchmark"].rsplit(".", 1)
        if cls.endswith("CompressionSweepBenchmark"):
            p = r["params"]
            sweep.setdefault((p["layer"], float(p["rho"])), {})[method] = r
        else:
            other.append(r)
    if sweep:
        print("| layer | rho req / achieved | forward ms | backward-data ms | backward-weights ms "
              "| fwd GFLOP nominal / executed / dense | effective GFLOP/s fwd / bwd-data / bwd-weights "
              "| saved spectra MiB | workspace MiB | native bytes |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        layers = list(dict.fromkeys(k[0] for k in sweep))
        for layer in layers:
            for rho in sorted(k[1] for k in sweep if k[0] == layer):
                row = sweep[(layer, rho)]
                any_r = next(iter(row.values()))
                s = any_r.get("secondaryMetrics", {})

                def sec(r, key, scale=1.0, fmt="{:.1f}"):
                    m = r.get("secondaryMetrics", {}).get(key) if r else None
                    return fmt.format(m["score"] * scale) if m else "-"

                def ms(method):
                    r = row.get(method)
                    if not r:
                        return "-"
                    pm = r["primaryMetric"]
                    return "{:.1f} ± {:.1f}".format(pm["score"], pm["scoreError"])

                f = row.get("forward")
                eff = " / ".join(sec(row.get(m), "gflops.effective") for m in ("forward", "backwardData", "backwardWeights"))
                flops = " / ".join(sec(f, k, fmt="{:.3f}") for k in ("flop.nominal", "flop.executed", "flop.dense"))
                print("| {} | {:g} / {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                    layer, rho, sec(any_r, "plan.rate", fmt="{:.3f}"), ms("forward"), ms("backwardData"),
                    ms("backwardWeights"), flops, eff, sec(any_r, "bytes.savedSpectra", 2**-20, "{:.2f}"),
                    sec(any_r, "bytes.workspace", 2**-20, "{:.2f}"), sec(any_r, "bytes.native", fmt="{:.0f}")))
    if other:
        if sweep:
            print()
        print("| benchmark | params | score | unit |")
        print("|---|---|---|---|")
        for r in other:
            pm = r["primaryMetric"]
            params = ", ".join("{}={}".format(k, v) for k, v in r.get("params", {}).items())
            print("| {} | {} | {:.1f} ± {:.1f} | {} |".format(
                r["benchmark"].rsplit(".", 2)[-2] + "." + r["benchmark"].rsplit(".", 1)[1], params,
                pm["score"], pm["scoreError"], pm["scoreUnit"]))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
