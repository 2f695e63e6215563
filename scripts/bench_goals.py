#!/usr/bin/env python3
"""Issue 11's goal figures from the JSON of the native bench (bl_bench --json FILE).

Usage: scripts/bench_goals.py AFTER.json [BEFORE.json]

Prints markdown: the ResNet geomeans against oneDNN per requested rate, the large-kernel and 1D
ratios at rho 0, the transform and product shares of the FMA peak, and the scaling of time with
executed FLOPs. With BEFORE.json, a before column beside each figure (same machine and sitting
only: the ratios are same-run ratios against the oneDNN of that run).
"""
import json
import math
import sys

PASSES = ("fwd", "bwd-data", "bwd-weights")


def load(path):
    with open(path) as f:
        return json.load(f)


def ours_sum(rate):
    return sum(rate[p]["median_s"] for p in PASSES)


def onednn_sum(layer):
    return sum(layer["onednn"][p]["median_s"] for p in PASSES)


def rate_of(layer, rho):
    for r in layer["ours"]:
        if abs(r["rho"] - rho) < 1e-9:
            return r
    return None


def group(d, prefix):
    return [L for L in d["layers"] if L["group"].startswith(prefix)]


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def resnet_speedups(d, rho):
    out = []
    for L in group(d, "ResNet"):
        r = rate_of(L, rho)
        if r:
            out.append(onednn_sum(L) / ours_sum(r))
    return out


def peak_of(d):
    """The measured FMA peak of the path the library ran (GFLOP/s, all threads)."""
    p = d["peak_gflops"]
    return p[d["cpu_path"]] if isinstance(p, dict) else p


def fmt_ratio(v):
    return f"{v:.2f}x"


def figures(d):
    peak = peak_of(d)
    f = {}
    for rho, goal in ((0.0, 0.7), (0.5, 1.0), (0.75, 2.0)):
        s = resnet_speedups(d, rho)
        f[f"ResNet geomean, requested rho {rho:g} (goal >= {goal:g}x)"] = (geomean(s), goal, s)
    for L in group(d, "Large kernels") + group(d, "1D"):
        r = rate_of(L, 0.0)
        name = L["name"]
        goal = 50.0 if "1D" in L["group"] or "31" in name else 15.0 if "15" in name else 1.5
        f[f"{L['group'].split(' (')[0]} {name}, rho 0 (goal >= {goal:g}x)"] = (onednn_sum(L) / ours_sum(r), goal, None)
    trans, prod, fftw = {}, {}, {}
    for L in group(d, "ResNet"):
        r = rate_of(L, 0.0)
        if L.get("fftw_r2c_x") and r["fwd"].get("transform_x_s"):
            fftw[L["name"]] = (r["fwd"]["transform_x_s"], L["fftw_r2c_x"]["median_s"])
        t = [r[p]["transform_flops"] / r[p]["transform_s"] / 1e9 / peak * 100 for p in PASSES if r[p]["transform_s"] > 0]
        q = [r[p]["product_flops"] / r[p]["product_s"] / 1e9 / peak * 100 for p in PASSES if r[p]["product_s"] > 0]
        trans[L["name"]] = min(t)
        prod[L["name"]] = min(q)
    return f, trans, prod, fftw


def scaling(d):
    """Worst time(rho)/time(0) divided by executed-FLOPs(rho)/executed-FLOPs(0), per layer."""
    rows = []
    for L in d["layers"]:
        base = rate_of(L, 0.0)
        if not base:
            continue
        t0 = ours_sum(base)
        f0 = sum(base[p]["flops_executed"] for p in PASSES)
        worst, at = 0.0, None
        for r in L["ours"]:
            if r["rho"] == 0:
                continue
            tr = ours_sum(r) / t0
            fr = sum(r[p]["flops_executed"] for p in PASSES) / f0
            if tr / fr > worst:
                worst, at = tr / fr, r["rho"]
        rows.append((f"{L['group'].split(' (')[0]}: {L['name']}", worst, at))
    return rows


def main():
    after = load(sys.argv[1])
    before = load(sys.argv[2]) if len(sys.argv) > 2 else None
    fa, ta, pa, xa = figures(after)
    fb, tb, pb, xb = figures(before) if before else ({}, {}, {}, {})
    print(f"Machine: {after['cpu']}, {after['threads']} threads, path {after['cpu_path']}, "
          f"FMA peak {peak_of(after):.1f} GFLOP/s; load {after['loadavg_start']:.2f} -> {after['loadavg_end']:.2f}"
          f" ({after['noisy_measurements']} measurements with a p10-p90 spread above 10%)\n")
    head = "| goal | before | after | met |\n|---|---|---|---|" if before else "| goal | measured | met |\n|---|---|---|"
    print(head)
    for k, (v, goal, per) in fa.items():
        detail = f" ({' / '.join(fmt_ratio(x) for x in per)})" if per else ""
        met = "yes" if v >= goal else "no"
        if before:
            bv = fb.get(k, (float("nan"),))[0]
            bper = fb.get(k, (0, 0, None))[2]
            bdetail = f" ({' / '.join(fmt_ratio(x) for x in bper)})" if bper else ""
            print(f"| {k} | {fmt_ratio(bv)}{bdetail} | {fmt_ratio(v)}{detail} | {met} |")
        else:
            print(f"| {k} | {fmt_ratio(v)}{detail} | {met} |")
    print()
    print("Transforms and product, % of the FMA peak (executed FLOPs, rho 0, the slowest of the three passes;"
          " goals >= 30% and >= 60%):\n")
    print("| layer | transforms" + (" before / after" if before else "") + " | product" +
          (" before / after" if before else "") + " |\n|---|---|---|")
    for name in ta:
        if before:
            print(f"| {name} | {tb.get(name, float('nan')):.1f}% / {ta[name]:.1f}% | {pb.get(name, float('nan')):.1f}% / {pa[name]:.1f}% |")
        else:
            print(f"| {name} | {ta[name]:.1f}% | {pa[name]:.1f}% |")
    print()
    print("The x transform at rho 0 against FFTW's unpruned r2c of the same planes (FFTW_MEASURE; goal: faster):\n")
    print("| layer | ours ms" + (" before / after" if before else "") + " | FFTW ms | met |\n|---|---|---|---|")
    for name, (ours, fw) in xa.items():
        b = f"{xb[name][0] * 1e3:.3f} / " if name in xb else ""
        print(f"| {name} | {b}{ours * 1e3:.3f} | {fw * 1e3:.3f} | {'yes' if ours < fw else 'no'} |")
    print()
    print("Scaling: worst over the rates of [time(rho)/time(0)] / [executed FLOPs(rho)/executed FLOPs(0)]"
          " (goal <= 1.2):\n")
    print("| layer | worst | at rho | met |\n|---|---|---|---|")
    for name, worst, at in scaling(after):
        print(f"| {name} | {worst:.2f} | {at:g} | {'yes' if worst <= 1.2 else 'no'} |")


if __name__ == "__main__":
    main()
