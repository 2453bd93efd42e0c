#!/usr/bin/env python3
"""The speed-up of data-parallel training on paper (docs/performance.md).

A step of global batch B on N machines costs compute B / (N s) plus one ring
all-reduce of the gradients of the net and of its softmax classifiers, which
is not overlapped with the backward pass:

    T_comm(N) = 2 (N - 1) / N * 4 P / bandwidth + 2 (N - 1) * latency

where P counts the parameters of the net (heads included) and of one softmax
classifier per output, and s is one machine's training speed (samples/s).
Speed-up S(N, B) = (B / s) / (B / (N s) + T_comm(N)). Printed per net: the
speed-up at B = 128 samples (64 pairs, the tool's default) and at 1024, and
the batch at which communication takes as long as compute (below it, more
than half of each step waits on the network).
Usage: scripts/mpi_scaling_model.py
"""

BANDWIDTH = 10e9 / 8  # bytes/s, 10 Gbit/s Ethernet
LATENCY = 50e-6       # s per message
IDENTITIES = 10_000   # classes of each softmax classifier

# name, parameters of the net (all outputs; `deepid info`), outputs and their
# dimension, training samples/s of one 2-core machine (AMD EPYC Zen5, 2
# threads) at batch 128 with 10,000-way classifiers: docs/performance.md,
# "All nets on the Zen5 after the training-step work" (DeepID1: the joint
# step of paper39; the others: the training step with four outputs).
NETS = [
    ("DeepID1 39x31x3", 216_780, 1, 160, 5_268),
    ("DeepID2+ 55x47x3", 50_292_992, 4, 512, 212),
    ("DeepID3 net1 55x47x3", 65_720_704, 4, 512, 136),
    ("DeepID3 net2 55x47x3", 34_662_132, 4, 512, 165),
]


def comm_seconds(n: int, params: int) -> float:
    return 2 * (n - 1) / n * 4 * params / BANDWIDTH + 2 * (n - 1) * LATENCY


def speed_up(n: int, batch: int, params: int, rate: float) -> float:
    return (batch / rate) / (batch / (n * rate) + comm_seconds(n, params))


def main() -> None:
    print("| net | floats summed per step | machines | all-reduce per step | speed-up, B = 128 | "
          "speed-up, B = 1024 | B where communication = compute |")
    print("|---|---|---|---|---|---|---|")
    for name, net_params, outputs, dim, rate in NETS:
        params = net_params + outputs * (dim + 1) * IDENTITIES
        for n in (8, 64):
            t = comm_seconds(n, params)
            print(f"| {name} | {params / 1e6:.1f} M | {n} | {t * 1e3:.0f} ms | {speed_up(n, 128, params, rate):.2f}x | "
                  f"{speed_up(n, 1024, params, rate):.2f}x | {n * rate * t:,.0f} |")


if __name__ == "__main__":
    main()
