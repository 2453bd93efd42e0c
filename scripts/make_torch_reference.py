#!/usr/bin/python3
"""PyTorch reference for deepid's interop check.

Needs Debian's python3 with python3-torch and python3-numpy: run it as
/usr/bin/python3 (another python3 first on PATH may lack them). When torch or
numpy is missing it prints why and exits with status 77 (ctest's "skipped").

  make   builds scripts/torch_deepid.py's DeepID(3, 39, 31, SHARING), initialises
         it deterministically and writes into OUT:
           weights/<name>.npy + weights/model.txt   deepid interop weights (float32)
           input.npy                                a batch N x 3 x 39 x 31 (float32)
           features.npy                             PyTorch's features N x 160 (float64,
                                                    computed in float64 from the
                                                    float32 weights and input)
  check  compares deepid's features with features.npy: max |difference| <= TOL.

  /usr/bin/python3 scripts/make_torch_reference.py make --out DIR [--sharing plain|paper] [--seed 7] [--batch 8]
  deepid forward --model deepid1-39x31x3-plain --weights DIR/weights --input DIR/input.npy --output DIR/deepid.npy
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

MODEL_NAMES = {"plain": "deepid1-39x31x3-plain", "paper": "deepid1-39x31x3"}


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
    net = torch_deepid.init_like_deepid(torch_deepid.DeepID(3, 39, 31, args.sharing), args.seed).eval()
    names = net.deepid_names()
    for name, p in names.items():
        np.save(weights / f"{name}.npy", np.ascontiguousarray(p.detach().numpy().astype(np.float32)))
    write_manifest(weights / "model.txt", MODEL_NAMES[args.sharing], names)

    g = torch.Generator().manual_seed(args.seed + 1)
    x = torch.rand((args.batch, 3, 39, 31), generator=g, dtype=torch.float32)
    np.save(out / "input.npy", x.numpy())
    with torch.no_grad():
        f32 = net(x)
        f64 = net.double()(x.double())
    np.save(out / "features.npy", f64.numpy())
    active = float((f64 > 0).double().mean())
    print(f"make_torch_reference: {MODEL_NAMES[args.sharing]} (torch {torch.__version__}), batch {args.batch}, "
          f"{active:.0%} of features active; torch float32 vs float64: "
          f"{float((f32.double() - f64).abs().max()):.2e}")
    return 0


def check(args):
    ref = np.load(pathlib.Path(args.reference) / "features.npy")
    ours = np.load(args.features)
    if ours.shape != ref.shape:
        print(f"make_torch_reference: FAIL: deepid's features are {ours.shape}, PyTorch's {ref.shape}")
        return 1
    if ours.dtype != np.float32:
        print(f"make_torch_reference: FAIL: deepid's features are {ours.dtype}, expected float32")
        return 1
    if not np.isfinite(ours).all():
        print("make_torch_reference: FAIL: deepid's features contain NaN or infinity")
        return 1
    if not (ref > 0).any():
        print("make_torch_reference: FAIL: the reference features are all zero; the check would prove nothing")
        return 1
    diff = np.abs(ours.astype(np.float64) - ref)
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    ok = diff.max() <= args.tolerance
    print(f"make_torch_reference: {'PASS' if ok else 'FAIL'}: max |deepid - torch| = {diff.max():.3e} at {worst} "
          f"(tolerance {args.tolerance:g}; feature scale {np.abs(ref).max():.3g}) over {ref.shape[0]} x {ref.shape[1]}")
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make", help="write weights, input and PyTorch's features")
    m.add_argument("--out", required=True)
    m.add_argument("--sharing", choices=sorted(MODEL_NAMES), default="plain")
    m.add_argument("--seed", type=int, default=7)
    m.add_argument("--batch", type=int, default=8)
    c = sub.add_parser("check", help="compare deepid's features with PyTorch's")
    c.add_argument("--reference", required=True)
    c.add_argument("--features", required=True)
    c.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    return make(args) if args.command == "make" else check(args)


if __name__ == "__main__":
    sys.exit(main())
