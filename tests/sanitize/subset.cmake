# The unit tests of the sanitizer pass inside CI (tests/sanitize/suite.cmake),
# besides every fuzz replay test: the file loaders and parsers (npy, faces),
# the numerics with the most index arithmetic on user-sized matrices
# (joint_bayesian: EM, Cholesky, PCA underneath) and the worker pool
# (parallel). Measured on the 2-core machine with ASan + UBSan at -O1 -g, in CPU
# time to compile and link: npy 168 s, faces 91 s, joint_bayesian 169 s,
# parallel about 30 s, the twelve fuzz harnesses 190 s; the sixteen tests run
# in under 60 s together. About 11 CPU-minutes, so 5-6 minutes of wall time on
# two idle cores. Without ASan's stack redzones (CMakeLists.txt), measured
# 2026-12-07 at -O1 -g1: the whole pass 220 s wall, 5 CPU-minutes. pca (231 s
# then) and the rest were left out when it cost 11;
# scripts/test.sh --sanitize address runs them all.
set(deepid_sanitize_unit_tests npy faces joint_bayesian parallel)
