"""The DeepID family's nets in PyTorch, laid out exactly as deepid's interop files.

Used by the interop check (scripts/make_torch_reference.py) and the
side-by-side benchmark. Needs Debian's python3 with python3-torch
(/usr/bin/python3); another python3 first on PATH may lack torch.

Parameter names follow deepid's layer table: "<layer index>.weight" and
"<layer index>.bias", the index being the row of `deepid info` (1-based, fused
ReLUs and taps counted). Layouts: ordinary convolution OIHW; locally shared
convolution [grid rows][grid cols][O][I][k][k] with bias [grid rows][grid
cols][O]; locally connected the same with the grid = output map; fully
connected [out][in] over the NCHW flatten of its inputs, concatenated in tag
order.
"""
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - message for the user
    sys.exit("torch_deepid: PyTorch is missing; install python3-torch and run /usr/bin/python3")


class BankedConv(nn.Module):
    """Convolution with one filter bank per region of an R x C grid over the output."""

    def __init__(self, cin, cout, k, in_hw, grid):
        super().__init__()
        self.k, self.grid = k, grid
        self.out_h, self.out_w = in_hw[0] - k + 1, in_hw[1] - k + 1
        assert self.out_h % grid[0] == 0 and self.out_w % grid[1] == 0
        self.weight = nn.Parameter(torch.zeros(grid[0], grid[1], cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(grid[0], grid[1], cout))

    def forward(self, x):
        rh, rw = self.out_h // self.grid[0], self.out_w // self.grid[1]
        if rh * rw == 1:  # locally connected: one bank per position, unfold + einsum
            cols = F.unfold(x, self.k)  # N, Cin*k*k, L
            w = self.weight.reshape(self.grid[0] * self.grid[1], self.weight.shape[2], -1)  # L, O, I*k*k
            out = torch.einsum("nil,loi->nol", cols, w) + self.bias.reshape(-1, self.bias.shape[2]).t()
            return out.reshape(x.shape[0], -1, self.out_h, self.out_w)
        rows = []
        for gr in range(self.grid[0]):
            row = []
            for gc in range(self.grid[1]):
                patch = x[:, :, gr * rh: gr * rh + rh + self.k - 1, gc * rw: gc * rw + rw + self.k - 1]
                row.append(F.conv2d(patch, self.weight[gr, gc], self.bias[gr, gc]))
            rows.append(torch.cat(row, dim=3))
        return torch.cat(rows, dim=2)


class DeepID(nn.Module):
    """conv 4/20, 3/40, 3/60, 2/80 with 2x2 pooling after the first three and the
    160-unit DeepID layer on pool3 + conv4. sharing="plain" uses ordinary
    convolutions; "paper" a 2x2 region grid for conv3 and a locally connected conv4."""

    def __init__(self, c=3, h=39, w=31, sharing="plain", grid=(2, 2)):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 20, 4)
        self.conv2 = nn.Conv2d(20, 40, 3)
        h1, w1 = (h - 3) // 2, (w - 3) // 2
        h2, w2 = (h1 - 2) // 2, (w1 - 2) // 2
        h3, w3 = (h2 - 2) // 2, (w2 - 2) // 2
        # A bank grid of one region is an ordinary convolution (deepid stores
        # it in OIHW then), e.g. conv4 of the 31x31 nets, whose output is 1x1.
        def banked(cin, cout, k, hw, g):
            return nn.Conv2d(cin, cout, k) if tuple(g) == (1, 1) else BankedConv(cin, cout, k, hw, g)

        if sharing == "plain":
            self.conv3 = nn.Conv2d(40, 60, 3)
            self.conv4 = nn.Conv2d(60, 80, 2)
        else:
            self.conv3 = banked(40, 60, 3, (h2, w2), grid)
            self.conv4 = banked(60, 80, 2, (h3, w3), (h3 - 1, w3 - 1))
        self.fc = nn.Linear(60 * h3 * w3 + 80 * (h3 - 1) * (w3 - 1), 160)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        pool3 = F.max_pool2d(F.relu(self.conv3(x)), 2)
        conv4 = F.relu(self.conv4(pool3))
        return F.relu(self.fc(torch.cat([pool3.flatten(1), conv4.flatten(1)], dim=1)))

    def deepid_names(self):
        """Parameter name in deepid's interop files -> tensor."""
        return {"1.weight": self.conv1.weight, "1.bias": self.conv1.bias,
                "4.weight": self.conv2.weight, "4.bias": self.conv2.bias,
                "7.weight": self.conv3.weight, "7.bias": self.conv3.bias,
                "11.weight": self.conv4.weight, "11.bias": self.conv4.bias,
                "14.weight": self.fc.weight, "14.bias": self.fc.bias}


def init_like_deepid(net, seed):
    """Any deterministic initialisation will do for interop checks."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.deepid_names().items():
            if name.endswith("bias"):
                scale = 0.05
            else:
                fan_in = p.shape[-1] if p.dim() == 2 else p.shape[-1] * p.shape[-2] * p.shape[-3]
                scale = (2.0 / fan_in) ** 0.5
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * scale)
    return net


# ---------------------------------------------------------------------------
# Any deepid stack, from a list of layer specs that mirrors the C++ one entry
# for entry (so the layer indices, and with them the parameter names, agree):
#   ("conv", maps, k, stride, pad)       ("lc", maps, k, stride, pad)
#   ("shared", maps, k, (rows, cols))    ("pool", size, stride, pad, floor)
#   ("relu",)  ("dropout", rate)  ("tap", name)  ("fc", units)
#   ("msfc", units, [tags])              ("head", name, tag, [specs])
#   ("inception", [[specs], [specs], ...])
# The main output is named by the last tap on it (else "output"); heads come
# first in the outputs, in order, as in deepid.


class LocallyConnected(nn.Module):
    """One filter bank per output position, over the padded input."""

    def __init__(self, cin, cout, k, stride, pad, in_hw):
        super().__init__()
        self.k, self.stride, self.pad = k, stride, pad
        self.out_h = (in_hw[0] + 2 * pad - k) // stride + 1
        self.out_w = (in_hw[1] + 2 * pad - k) // stride + 1
        self.weight = nn.Parameter(torch.zeros(self.out_h, self.out_w, cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(self.out_h, self.out_w, cout))

    def forward(self, x):
        cols = F.unfold(x, self.k, padding=self.pad, stride=self.stride)  # N, I*k*k, L
        w = self.weight.reshape(self.out_h * self.out_w, self.weight.shape[2], -1)  # L, O, I*k*k
        out = torch.einsum("nil,loi->nol", cols, w) + self.bias.reshape(-1, self.bias.shape[2]).t()
        return out.reshape(x.shape[0], -1, self.out_h, self.out_w)


class SpecNet(nn.Module):
    def __init__(self, in_shape, specs):
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.params = nn.ModuleDict()  # deepid layer index -> module with weight and bias
        self.index = 0
        self.head_names = []
        self.program = self._bind(specs, self.in_shape, {})
        self.main_name = self.output_name

    # Returns a list of steps; binding tracks shapes (C, H, W) and taps.
    def _bind(self, specs, shape, taps):
        steps, self.output_name = [], "output"
        for spec in specs:
            kind = spec[0]
            if kind == "head":
                _, name, tag, sub = spec
                sub_steps, _ = self._bind_chain(sub, taps[tag][1], dict(taps))
                steps.append(("head", name, tag, sub_steps))
                self.head_names.append(name)
                continue
            if kind == "inception":
                branch_steps, shapes = [], []
                for branch in spec[1]:
                    b_steps, b_shape = self._bind_chain(branch, shape, dict(taps))
                    branch_steps.append(b_steps)
                    shapes.append(b_shape)
                assert all(s[1:] == shapes[0][1:] for s in shapes)
                self.index += 1  # the concat row
                shape = (sum(s[0] for s in shapes), shapes[0][1], shapes[0][2])
                steps.append(("inception", branch_steps))
                self.output_name = "output"
                continue
            step, shape = self._bind_layer(spec, shape, taps)
            steps.append(step)
            self.output_name = spec[1] if kind == "tap" else "output"
        self.shape = shape
        return steps

    def _bind_chain(self, specs, shape, taps):
        steps = []
        for spec in specs:
            step, shape = self._bind_layer(spec, shape, taps)
            steps.append(step)
        return steps, shape

    def _bind_layer(self, spec, shape, taps):
        self.index += 1
        key = str(self.index)
        kind, c, h, w = spec[0], shape[0], shape[1], shape[2]
        if kind == "conv":
            _, maps, k, stride, pad = spec
            self.params[key] = nn.Conv2d(c, maps, k, stride=stride, padding=pad)
            return ("module", key), (maps, (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1)
        if kind == "lc":
            _, maps, k, stride, pad = spec
            m = LocallyConnected(c, maps, k, stride, pad, (h, w))
            self.params[key] = m
            return ("module", key), (maps, m.out_h, m.out_w)
        if kind == "shared":
            _, maps, k, grid = spec
            m = nn.Conv2d(c, maps, k) if tuple(grid) == (1, 1) else BankedConv(c, maps, k, (h, w), grid)
            self.params[key] = m
            return ("module", key), (maps, h - k + 1, w - k + 1)
        if kind == "pool":
            _, size, stride, pad, floor = spec
            return ("pool", size, stride, pad), (c, (h + 2 * pad - size) // stride + 1, (w + 2 * pad - size) // stride + 1)
        if kind == "relu":
            return ("relu",), shape
        if kind == "dropout":
            return ("dropout", spec[1]), shape
        if kind == "tap":
            taps[spec[1]] = (None, shape)
            return ("tap", spec[1]), shape
        if kind == "fc":
            self.params[key] = nn.Linear(c * h * w, spec[1])
            return ("fc", key, None), (spec[1], 1, 1)
        if kind == "msfc":
            _, units, tags = spec
            total = sum(taps[t][1][0] * taps[t][1][1] * taps[t][1][2] for t in tags)
            self.params[key] = nn.Linear(total, units)
            return ("fc", key, list(tags)), (units, 1, 1)
        raise ValueError(f"unknown spec {spec}")

    def _run(self, steps, x, taps, outputs):
        for step in steps:
            kind = step[0]
            if kind == "module":
                x = self.params[step[1]](x)
            elif kind == "pool":
                x = F.max_pool2d(x, step[1], stride=step[2], padding=step[3])
            elif kind == "relu":
                x = F.relu(x)
            elif kind == "dropout":
                x = F.dropout(x, step[1], self.training)
            elif kind == "tap":
                taps[step[1]] = x
            elif kind == "fc":
                inputs = [x] if step[2] is None else [taps[t] for t in step[2]]
                x = self.params[step[1]](torch.cat([t.flatten(1) for t in inputs], dim=1))
            elif kind == "head":
                outputs[step[1]] = self._run(step[3], taps[step[2]], dict(taps), outputs)
            elif kind == "inception":
                x = torch.cat([self._run(b, x, dict(taps), outputs) for b in step[1]], dim=1)
        return x

    def forward_all(self, x):
        """Every output, heads first, as a dict name -> N x D (NCHW flatten)."""
        outputs = {}
        main = self._run(self.program, x, {}, outputs)
        result = {name: outputs[name].flatten(1) for name in self.head_names}
        result[self.main_name] = main.flatten(1)
        return result

    def forward(self, x):
        return self._run(self.program, x, {}, {})

    def deepid_names(self):
        names = {}
        for key, m in self.params.items():
            names[f"{key}.weight"], names[f"{key}.bias"] = m.weight, m.bias
        return names


def deepid2plus_specs(grid=(2, 2), fc4_skip=True):
    def head(name, tag):
        return ("head", name, tag, [("fc", 512), ("relu",), ("dropout", 0.5)])
    return [("conv", 128, 4, 1, 0), ("relu",), ("pool", 2, 2, 0, False), ("tap", "pool1"), head("fc1", "pool1"),
            ("conv", 128, 3, 1, 0), ("relu",), ("pool", 2, 2, 0, False), ("tap", "pool2"), head("fc2", "pool2"),
            ("shared", 128, 3, grid), ("relu",), ("pool", 2, 2, 0, False), ("tap", "pool3"), head("fc3", "pool3"),
            ("lc", 128, 2, 1, 0), ("relu",), ("tap", "conv4"),
            ("msfc", 512, ["pool3", "conv4"] if fc4_skip else ["conv4"]), ("relu",), ("dropout", 0.5),
            ("tap", "fc4")]


DEEPID3_PAPER_WIDTHS = (64, 96, 192, 256)
DEEPID3_REDUCED_WIDTHS = (16, 24, 48, 64)


def deepid3_inception(out):
    return ("inception", [[("conv", out // 4, 1, 1, 0), ("relu",)],
                          [("conv", out // 4, 1, 1, 0), ("relu",), ("conv", 3 * out // 8, 3, 1, 1), ("relu",)],
                          [("conv", out // 16, 1, 1, 0), ("relu",), ("conv", out // 8, 5, 1, 2), ("relu",)],
                          [("pool", 3, 1, 1, False), ("conv", out // 4, 1, 1, 0), ("relu",)]])


def deepid3_specs(net, widths=DEEPID3_PAPER_WIDTHS, fc4_skip=True):
    w1, w2, w3, w4 = widths
    pool = ("pool", 2, 2, 0, True)

    def head(name, tag):
        return ("head", name, tag, [("fc", 512), ("relu",), ("dropout", 0.5)])

    def pair(maps):
        return [("conv", maps, 3, 1, 1), ("relu",), ("conv", maps, 3, 1, 1), ("relu",)]
    specs = pair(w1) + [pool, ("tap", "pool1"), head("fc1", "pool1")]
    specs += pair(w2) + [pool, ("tap", "pool2"), head("fc2", "pool2")]
    if net == 1:
        specs += pair(w3) + [pool, ("tap", "pool3"), head("fc3", "pool3")]
        specs += [("lc", w4, 3, 1, 1), ("relu",), ("lc", w4, 3, 1, 1), ("relu",), pool, ("tap", "pool4")]
    else:
        specs += [deepid3_inception(w3)] * 3 + [pool, ("tap", "pool3"), head("fc3", "pool3")]
        specs += [deepid3_inception(w4)] * 2 + [pool, ("tap", "pool4")]
    specs += [("msfc", 512, ["pool3", "pool4"] if fc4_skip else ["pool4"]), ("relu",), ("dropout", 0.5),
              ("tap", "fc4")]
    return specs


# deepid's model names (deepid info) -> (input C, H, W), specs.
SPEC_MODELS = {}
for _c, _h, _w in [(3, 55, 47), (1, 55, 47), (3, 47, 47), (1, 47, 47)]:
    SPEC_MODELS[f"deepid2plus-{_h}x{_w}x{_c}"] = ((_c, _h, _w), deepid2plus_specs())
SPEC_MODELS["deepid3-net1-55x47x3"] = ((3, 55, 47), deepid3_specs(1))
SPEC_MODELS["deepid3-net2-55x47x3"] = ((3, 55, 47), deepid3_specs(2))
for _c, _h, _w in [(3, 55, 47), (1, 47, 47)]:
    for _net in (1, 2):
        SPEC_MODELS[f"deepid3-net{_net}-{_h}x{_w}x{_c}-reduced"] = ((_c, _h, _w),
                                                                    deepid3_specs(_net, DEEPID3_REDUCED_WIDTHS))


def spec_model(name):
    shape, specs = SPEC_MODELS[name]
    return SpecNet(shape, specs)
