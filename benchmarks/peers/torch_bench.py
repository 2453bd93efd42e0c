"""PyTorch peer of benchmarks/side_by_side.cpp, driven over stdin/stdout.

side_by_side starts this script once (with /usr/bin/python3: Debian's torch
lives there) and sends one command per line, so PyTorch runs interleaved with
deepid and OpenCV dnn while staying warm:

  case <dir> <sharing> <h> <w> <batch> <threads> <infer|train|joint>
      build the net with the weights deepid wrote to <dir> (<name>.bin, raw
      float32 in PyTorch layout), prepare the variants and answer
      "ok <variant>... maxdiff=<max |torch - deepid| on <dir>/features.bin>"
  spec <dir> <net> <batch> <threads> <infer|train>
      the deeper nets (DeepID2+, DeepID3) as torch_deepid.SpecNet from the
      spec lists that mirror deepid's stacks (<net>: d2plus, d2plus-plain,
      d3net1, d3net1-plain, d3net2, d3net1-reduced, d3net2-reduced, ...);
      the weights and the reference outputs of every head (<dir>/out_<name>.bin)
      come from deepid. "infer" runs the main path only (feature extraction,
      no heads); "train" supervises all four outputs, each with its own
      10,000-way nn.Linear classifier (sum of the cross-entropies, SGD with
      momentum). Answers "ok <variant>... maxdiff=<main output>
      <name>=<max diff>..." (every output, heads included).
  time <variant> <calls>      run <calls> calls and answer the seconds taken
  quit

"joint" is DeepID2's step on batch/2 pairs gathered each step from 640
identities x 10 patches (random partners, half positive, random flips):
softmax cross-entropy on every sample plus LAMBDA times the L2 contrastive
loss with a fixed margin (deepid also re-fits the margin; that is a few
hundred comparisons per step).

Variants: eager and jit (torch.jit.trace + torch.jit.freeze for inference;
trace without freeze for training, which freeze does not support), each also
in channels_last memory format (eager-cl, jit-cl: a copy of the net with its
own optimizer). oneDNN's convolutions are up to 6x faster in channels_last
on some CPUs (AVX-512 EPYCs), so the NCHW variants alone would understate
PyTorch there. The caller compares deepid with the best variant. OPENBLAS_NUM_THREADS=1
must be set before torch loads (side_by_side does): with 2 threads PyTorch's
fully connected layers otherwise stall on OpenBLAS's own thread pool. Those
layers call the system libblas.so.3: side_by_side puts OpenBLAS first on
LD_LIBRARY_PATH when it is installed (the reference BLAS is 4x slower), and
"versions" reports which BLAS was loaded.
"""
import copy
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("torch_bench: numpy or torch is missing; run with Debian's /usr/bin/python3 (python3-torch)")

from torch_deepid import DeepID, SpecNet, deepid2plus_specs, deepid3_specs  # noqa: E402
from torch_deepid import DEEPID3_PAPER_WIDTHS, DEEPID3_REDUCED_WIDTHS  # noqa: E402

CLASSES = 10000
LR, MOMENTUM = 0.01, 0.9
LAMBDA, MARGIN = 0.05, 10.0
PAIR_IDS, PER_ID = 640, 10


def to_channels_last(module, x):
    """A copy of module and x in channels_last (NHWC) memory format."""
    cl = torch.channels_last
    return copy.deepcopy(module).to(memory_format=cl), x.contiguous(memory_format=cl)


def add_inference(run, net, x, suffix):
    """Adds the eager and the traced-and-frozen inference of net on x to run."""
    def eager():
        with torch.inference_mode():
            return net(x)
    with torch.no_grad():
        traced = torch.jit.freeze(torch.jit.trace(net, x))

    def jit():
        with torch.no_grad():
            return traced(x)
    run["eager" + suffix] = eager
    run["jit" + suffix] = jit


def train_step(module, opt, x, y):
    """One SGD step on the summed cross-entropy of every output of module."""
    opt.zero_grad(set_to_none=True)
    outputs = module(x)
    if not isinstance(outputs, tuple):
        outputs = (outputs,)
    loss = sum(F.cross_entropy(logits, y) for logits in outputs)
    loss.backward()
    opt.step()
    return loss


def load(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype=np.float32).reshape(shape))


class Case:
    def __init__(self, folder, sharing, h, w, batch, threads, kind):
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.net = DeepID(3, h, w, sharing=sharing)
        with torch.no_grad():
            for name, p in self.net.deepid_names().items():
                p.copy_(load(os.path.join(folder, name + ".bin"), p.shape))
        everything = load(os.path.join(folder, "input.bin"), (-1, 3, h, w))
        reference = load(os.path.join(folder, "features.bin"), (everything.shape[0], 160))
        with torch.inference_mode():
            self.maxdiff = float((self.net.eval()(everything) - reference).abs().max())
        self.x = everything[:batch].contiguous()
        self.kind = kind
        self.run = {}
        if kind == "infer":
            self.net.eval()
            add_inference(self.run, self.net, self.x, "")
            add_inference(self.run, *to_channels_last(self.net, self.x), "-cl")
        else:
            self.net.train()
            if kind == "joint":
                self.setup_pairs(h, w, batch // 2)
            self.fc = torch.nn.Linear(160, CLASSES)
            self.y = torch.randint(0, CLASSES, (batch,), generator=torch.Generator().manual_seed(1))
            full = torch.nn.Sequential(self.net, self.fc)
            for suffix, (module, x) in (("", (full, self.x)), ("-cl", to_channels_last(full, self.x))):
                opt = torch.optim.SGD(module.parameters(), lr=LR, momentum=MOMENTUM)
                net, fc = module[0], module[1]
                if kind == "joint":
                    traced_net = torch.jit.trace(net, x)
                    traced_fc = torch.jit.trace(fc, torch.zeros(batch, 160))
                    cl = suffix == "-cl"
                    self.run["eager" + suffix] = lambda n=net, f=fc, o=opt, c=cl: self.joint(n, f, o, c)
                    self.run["jit" + suffix] = lambda n=traced_net, f=traced_fc, o=opt, c=cl: self.joint(n, f, o, c)
                else:
                    traced = torch.jit.trace(module, x)
                    self.run["eager" + suffix] = lambda m=module, o=opt, x=x: train_step(m, o, x, self.y)
                    self.run["jit" + suffix] = lambda m=traced, o=opt, x=x: train_step(m, o, x, self.y)
        for f in self.run.values():  # warm up (jit profiles its first calls)
            for _ in range(3):
                f()


    def setup_pairs(self, h, w, pairs):
        gen = torch.Generator().manual_seed(5)
        data = torch.randn(PAIR_IDS * PER_ID, 3, h, w, generator=gen)
        self.data = torch.cat([data, torch.flip(data, dims=[3])])  # rows n.. are the mirrors
        self.labels = torch.arange(PAIR_IDS * PER_ID) // PER_ID
        self.pairs = pairs
        self.gen = torch.Generator().manual_seed(6)

    def joint(self, net, fc, opt, channels_last):
        n, b, g = PAIR_IDS * PER_ID, self.pairs, self.gen
        anchors = torch.randint(0, n, (b,), generator=g)
        same = torch.rand(b, generator=g) < 0.5
        same_id = (anchors // PER_ID) * PER_ID + torch.randint(0, PER_ID, (b,), generator=g)
        partners = torch.where(same, same_id, torch.randint(0, n, (b,), generator=g))
        rows = torch.cat([anchors, partners])
        flips = torch.randint(0, 2, (2 * b,), generator=g)
        x = self.data.index_select(0, rows + flips * n)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y = self.labels.index_select(0, rows)
        opt.zero_grad(set_to_none=True)
        features = net(x)
        logits = fc(features)
        d = (features[:b] - features[b:]).norm(dim=1)
        same_label = (y[:b] == y[b:]).float()
        verif = 0.5 * (same_label * d.pow(2) + (1 - same_label) * F.relu(MARGIN - d).pow(2))
        loss = 2 * F.cross_entropy(logits, y) + LAMBDA * verif.mean()
        loss.backward()
        opt.step()
        return loss



# ---------------------------------------------------------------- deeper nets

def plain_specs(specs):
    """The same stack with ordinary convolutions: a locally shared layer
    becomes conv<maps, k> (no padding, stride 1), a locally connected one
    conv<maps, k, stride, pad>. One entry for one entry, so deepid's layer
    indices (the parameter names) do not move."""
    out = []
    for spec in specs:
        kind = spec[0]
        if kind == "shared":
            out.append(("conv", spec[1], spec[2], 1, 0))
        elif kind == "lc":
            out.append(("conv",) + tuple(spec[1:5]))
        elif kind == "head":
            out.append(spec[:3] + (plain_specs(spec[3]),))
        elif kind == "inception":
            out.append(("inception", [plain_specs(b) for b in spec[1]]))
        else:
            out.append(spec)
    return out


# side_by_side's net keys -> (C, H, W), specs
SPEC_NETS = {
    "d2plus": ((3, 55, 47), deepid2plus_specs()),
    "d2plus-plain": ((3, 55, 47), plain_specs(deepid2plus_specs())),
    "d3net1": ((3, 55, 47), deepid3_specs(1)),
    "d3net1-plain": ((3, 55, 47), plain_specs(deepid3_specs(1))),
    "d3net2": ((3, 55, 47), deepid3_specs(2)),
    "d3net1-reduced": ((3, 55, 47), deepid3_specs(1, DEEPID3_REDUCED_WIDTHS)),
    "d3net1-reduced-plain": ((3, 55, 47), plain_specs(deepid3_specs(1, DEEPID3_REDUCED_WIDTHS))),
    "d3net2-reduced": ((3, 55, 47), deepid3_specs(2, DEEPID3_REDUCED_WIDTHS)),
}


class MainPath(torch.nn.Module):
    """SpecNet's main path without the heads (what feature extraction runs;
    SpecNet.forward also runs the heads)."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.steps = [s for s in net.program if s[0] != "head"]

    def forward(self, x):
        return self.net._run(self.steps, x, {}, {}).flatten(1)


class AllOutputs(torch.nn.Module):
    """Every output (heads first, main last) through its own classifier."""

    def __init__(self, net, classifiers):
        super().__init__()
        self.net, self.classifiers = net, classifiers
        self.names = list(net.head_names) + [net.main_name]

    def forward(self, x):
        outputs = self.net.forward_all(x)
        return tuple(fc(outputs[name]) for name, fc in zip(self.names, self.classifiers))


class SpecCase:
    def __init__(self, folder, key, batch, threads, kind):
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        shape, specs = SPEC_NETS[key]
        self.net = SpecNet(shape, specs)
        with torch.no_grad():
            for name, p in self.net.deepid_names().items():
                p.copy_(load(os.path.join(folder, name + ".bin"), p.shape))
        everything = load(os.path.join(folder, "input.bin"), (-1,) + tuple(shape))
        names = list(self.net.head_names) + [self.net.main_name]
        self.diffs = {}
        # deepid wrote its outputs for the first few samples (out_<name>.bin)
        n_ref = os.path.getsize(os.path.join(folder, "out_" + self.net.main_name + ".bin")) // (4 * 512)
        with torch.inference_mode():
            self.net.eval()
            outputs = self.net.forward_all(everything[:n_ref])
            for name in names:
                ref = torch.from_numpy(np.fromfile(os.path.join(folder, "out_" + name + ".bin"), dtype=np.float32))
                ref = ref.reshape(-1, outputs[name].shape[1])
                n = min(ref.shape[0], outputs[name].shape[0])
                self.diffs[name] = float((outputs[name][:n] - ref[:n]).abs().max())
            main = MainPath(self.net)(everything[:n_ref])
            self.diffs["main-path"] = float((main - outputs[self.net.main_name]).abs().max())
        self.maxdiff = self.diffs[self.net.main_name]
        self.x = everything[:batch].contiguous()
        self.run = {}
        if kind == "infer":
            main = MainPath(self.net).eval()
            for suffix, (module, x) in (("", (main, self.x)), ("-cl", to_channels_last(main, self.x))):
                add_inference(self.run, module, x, suffix)
        elif kind == "train":
            self.net.train()
            fcs = torch.nn.ModuleList([torch.nn.Linear(512, CLASSES) for _ in names])
            self.y = torch.randint(0, CLASSES, (batch,), generator=torch.Generator().manual_seed(1))
            full = AllOutputs(self.net, fcs)
            for suffix, (module, x) in (("", (full, self.x)), ("-cl", to_channels_last(full, self.x))):
                opt = torch.optim.SGD(module.parameters(), lr=LR, momentum=MOMENTUM)
                traced = torch.jit.trace(module, x, check_trace=False)
                self.run["eager" + suffix] = lambda m=module, o=opt, x=x: train_step(m, o, x, self.y)
                self.run["jit" + suffix] = lambda m=traced, o=opt, x=x: train_step(m, o, x, self.y)
        else:
            raise ValueError("the deeper nets have the cases infer and train")
        # Warm up (jit profiles its first calls); side_by_side warms up and
        # calibrates with two more calls of each variant before timing.
        for f in self.run.values():
            for _ in range(1 if kind == "train" else 3):
                f()


def blas_library():
    """The BLAS this process loaded (PyTorch's fully connected layers run on it)."""
    torch.mm(torch.ones(2, 2), torch.ones(2, 2))
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.split()[-1]}
    real = sorted({os.path.realpath(p) for p in paths})
    return ",".join(real) if real else "unknown"


def command(words, state):
    """Runs one command line; state["case"] is the case being timed."""
    if words[0] == "case":
        folder, sharing, h, w, batch, threads, kind = words[1:8]
        state["case"] = None  # free the previous case's net first
        state["case"] = Case(folder, sharing, int(h), int(w), int(batch), int(threads), kind)
        print("ok", " ".join(state["case"].run), "maxdiff=%g" % state["case"].maxdiff, flush=True)
    elif words[0] == "spec":
        folder, key, batch, threads, kind = words[1:6]
        state["case"] = None  # the deeper nets are large
        case = state["case"] = SpecCase(folder, key, int(batch), int(threads), kind)
        print("ok", " ".join(case.run), "maxdiff=%g" % case.maxdiff,
              " ".join("%s=%g" % kv for kv in case.diffs.items()), flush=True)
    elif words[0] == "time":
        f, calls = state["case"].run[words[1]], int(words[2])
        start = time.perf_counter()
        for _ in range(calls):
            f()
        print("%.9f" % (time.perf_counter() - start), flush=True)
    elif words[0] == "versions":
        print("torch=%s numpy=%s blas=%s threads=%d" % (torch.__version__, np.__version__, blas_library(),
                                                      torch.get_num_threads()), flush=True)
    else:
        print("error unknown command " + words[0], flush=True)


def main():
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    state = {"case": None}
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        try:
            command(words, state)
        except Exception as e:  # noqa: BLE001 - answer instead of dying; side_by_side reports it
            print("error %s: %s" % (type(e).__name__, " ".join(str(e).split())[:500]), flush=True)


if __name__ == "__main__":
    main()
