#!/usr/bin/python3
"""PyTorch reference for deepid's interop check.

Needs Debian's python3 with python3-torch and python3-numpy: run it as
/usr/bin/python3 (another python3 first on PATH may lack them). When torch or
numpy is missing it prints why and exits with status 77 (ctest's "skipped").

  make   builds deepid model MODEL in PyTorch (scripts/torch_deepid.py),
         initialises it deterministically and writes into OUT:
           weights/<name>.npy + weights/model.txt   deepid interop weights (float32)
           input.npy                                a batch N x C x H x W (float32)
           features.<output>.npy                    PyTorch's value of each output
                                                    (every head, then the main one),
                                                    N x D float64, computed in float64
                                                    from the float32 weights and input
           outputs.txt                              the output names, one per line
  check  compares deepid's outputs, written by 'deepid forward --head all' as
         STEM.<output>.npy, with PyTorch's: max |difference| <= TOL for each.

  /usr/bin/python3 scripts/make_torch_reference.py make --out DIR --model NAME [--seed 7] [--batch 8]
  deepid forward --model NAME --weights DIR/weights --input DIR/input.npy --output DIR/deepid.npy --head all
  /usr/bin/python3 scripts/make_torch_reference.py check --reference DIR --features DIR/deepid.npy [--tolerance 1e-4]
"""
import argparse
import pathlib
import sys

SKIP = 77
try:
    import numpy as np
    import torch
except ImportError as missing:  # pragma: no cover - depends on the machine
    print(f"make_torch_reference: SKIP: {missing.name} is missing for {sys.executable}; "
          "install python3-torch and python3-numpy and run /usr/bin/python3", file=sys.stderr)
    sys.exit(SKIP)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import torch_deepid  # noqa: E402  (after the path is set)

# The DeepID1 nets of the side-by-side benchmark; every other model comes
# from torch_deepid.SPEC_MODELS.
DEEPID1_MODELS = {"deepid1-39x31x3-plain": "plain", "deepid1-39x31x3": "paper"}
MODEL_NAMES = sorted(DEEPID1_MODELS) + sorted(torch_deepid.SPEC_MODELS)


def build(model_name):
    """The PyTorch net and a function giving its outputs {name: N x D}."""
    if model_name in DEEPID1_MODELS:
        net = torch_deepid.DeepID(3, 39, 31, DEEPID1_MODELS[model_name])
        return net, (3, 39, 31), lambda n, x: {"output": n(x)}
    net = torch_deepid.spec_model(model_name)
    return net, net.in_shape, lambda n, x: n.forward_all(x)


def write_manifest(path, model_name, tensors):
    lines = ["# deepid interop weights written by scripts/make_torch_reference.py (docs/weights.md)",
             "format deepid-weights 1", f"model {model_name}", "dtype float32",
             f"parameters {sum(int(np.prod(t.shape)) for t in tensors.values())}"]
    for name, t in tensors.items():
        shape = "x".join(str(d) for d in t.shape) if t.dim() else "()"
        lines.append(f"tensor {name} {shape}")
    path.write_text("\n".join(lines) + "\n")


def make(args):
    out = pathlib.Path(args.out)
    weights = out / "weights"
    weights.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    net, shape, outputs_of = build(args.model)
    net = torch_deepid.init_like_deepid(net, args.seed).eval()
    names = net.deepid_names()
    for name, p in names.items():
        np.save(weights / f"{name}.npy", np.ascontiguousarray(p.detach().numpy().astype(np.float32)))
    write_manifest(weights / "model.txt", args.model, names)

    g = torch.Generator().manual_seed(args.seed + 1)
    x = torch.rand((args.batch, *shape), generator=g, dtype=torch.float32)
    np.save(out / "input.npy", x.numpy())
    with torch.no_grad():
        f32 = outputs_of(net, x)
        net = net.double()
        f64 = outputs_of(net, x.double())
    for name, value in f64.items():
        np.save(out / f"features.{name}.npy", value.numpy())
    (out / "outputs.txt").write_text("".join(f"{name}\n" for name in f64))
    report = ", ".join(f"{name}: {float((f64[name] > 0).double().mean()):.0%} active, "
                       f"float32 vs float64 {float((f32[name].double() - f64[name]).abs().max()):.1e}"
                       for name in f64)
    print(f"make_torch_reference: {args.model} (torch {torch.__version__}), batch {args.batch}; {report}")
    return 0


def check_one(name, ref, ours, tolerance):
    if ours.shape != ref.shape:
        print(f"make_torch_reference: FAIL: {name}: deepid's output is {ours.shape}, PyTorch's {ref.shape}")
        return False
    if ours.dtype != np.float32:
        print(f"make_torch_reference: FAIL: {name}: deepid's output is {ours.dtype}, expected float32")
        return False
    if not np.isfinite(ours).all():
        print(f"make_torch_reference: FAIL: {name}: deepid's output contains NaN or infinity")
        return False
    if not (ref > 0).any():
        print(f"make_torch_reference: FAIL: {name}: the reference is all zero; the check would prove nothing")
        return False
    diff = np.abs(ours.astype(np.float64) - ref)
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    ok = diff.max() <= tolerance
    print(f"make_torch_reference: {'PASS' if ok else 'FAIL'}: {name}: max |deepid - torch| = {diff.max():.3e} at "
          f"{worst} (tolerance {tolerance:g}; scale {np.abs(ref).max():.3g}) over {ref.shape[0]} x {ref.shape[1]}")
    return ok


def check(args):
    reference = pathlib.Path(args.reference)
    names = (reference / "outputs.txt").read_text().split()
    stem = pathlib.Path(args.features)
    ok = True
    for name in names:
        ours_path = stem.with_name(f"{stem.stem}.{name}.npy")
        if not ours_path.exists():
            print(f"make_torch_reference: FAIL: {ours_path} is missing (run deepid forward with --head all)")
            ok = False
            continue
        ok &= check_one(name, np.load(reference / f"features.{name}.npy"), np.load(ours_path), args.tolerance)
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make", help="write weights, input and PyTorch's features")
    m.add_argument("--out", required=True)
    m.add_argument("--model", choices=MODEL_NAMES, required=True)
    m.add_argument("--seed", type=int, default=7)
    m.add_argument("--batch", type=int, default=8)
    c = sub.add_parser("check", help="compare deepid's outputs with PyTorch's")
    c.add_argument("--reference", required=True)
    c.add_argument("--features", required=True, help="the --output given to deepid forward --head all")
    c.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    return make(args) if args.command == "make" else check(args)


if __name__ == "__main__":
    sys.exit(main())
