#pragma once
// The ranks of a 'deepid train' started by mpirun (mpirun -np N deepid
// train ...). Built with MPI (CMake found one: DEEPID_CLI_MPI), the tool
// starts MPI only when a launcher started it; otherwise it is one process.
#include <cstddef>
#include <memory>

#include <deepid/train/rank_group.hpp>

namespace deepid_cli {

// Starts MPI when this process was started by mpirun. Call first in main.
void start_ranks(int& argc, char**& argv);
// The ranks, or null for one process.
std::shared_ptr<deepid::train::rank_group> ranks();
std::size_t rank_count();
bool rank_zero();
// Ends MPI (normal exit), or with `status` every rank of the job (an error:
// the other ranks may be waiting for this one).
void stop_ranks();
[[noreturn]] void abort_ranks(int status);

}  // namespace deepid_cli
