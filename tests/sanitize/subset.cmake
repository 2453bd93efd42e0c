# The unit tests of the sanitizer pass inside CI (tests/sanitize/suite.cmake),
# besides every fuzz replay test: the file loaders and parsers (npy, faces),
# the numerics with the most index arithmetic on user-sized matrices
# (joint_bayesian: EM, Cholesky, PCA underneath) and the worker pool
# (parallel). Measured on the 2-core machine with ASan + UBSan at -O1 -g, in CPU
# time to compile and link: npy 168 s, faces 91 s, joint_bayesian 169 s,
# parallel about 30 s, the twelve fuzz harnesses 190 s; the sixteen tests run
# in under 60 s together. About 11 CPU-minutes, so 5-6 minutes of wall time on
# two idle cores. pca (231 s) and the rest do not fit;
# scripts/test.sh --sanitize address runs them all.
set(deepid_sanitize_unit_tests npy faces joint_bayesian parallel)
