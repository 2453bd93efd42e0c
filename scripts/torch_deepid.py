"""DeepID1/DeepID2 nets in PyTorch, laid out exactly as deepid's interop files.

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
