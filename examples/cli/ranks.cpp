// The tool's MPI session (ranks.hpp). The only file that includes MPI.
#include "ranks.hpp"

#include <cstdlib>
#include <memory>
#include <string>

#include <deepid/core/error.hpp>

#if DEEPID_CLI_MPI
#include <deepid/distributed/mpi.hpp>
#endif

namespace deepid_cli {

namespace {
#if DEEPID_CLI_MPI
std::unique_ptr<deepid::distributed::mpi_session>& session() {
  static std::unique_ptr<deepid::distributed::mpi_session> s;
  return s;
}

#endif

// Open MPI's and MPICH's launchers (and PMI/PMIx-based ones) set these.
[[maybe_unused]] bool started_by_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(name)) return true;
  return false;
}

// The job's size as the launcher states it (Open MPI, then PMI); 0: unknown.
[[maybe_unused]] long launcher_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* text = std::getenv(name)) return std::strtol(text, nullptr, 10);
  return 0;
}
}  // namespace

void start_ranks([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
#if DEEPID_CLI_MPI
  if (started_by_launcher()) session() = std::make_unique<deepid::distributed::mpi_session>(argc, argv);
#else
  // N copies of a tool without MPI would each train alone and write the same folder.
  if (launcher_size() > 1)
    throw deepid::error("started by mpirun on " + std::to_string(launcher_size()) +
                        " ranks, but this deepid was built without MPI (install libopenmpi-dev and rebuild)");
#endif
}

std::shared_ptr<deepid::train::rank_group> ranks() {
#if DEEPID_CLI_MPI
  if (session() && session()->size() > 1) return session()->ranks();
#endif
  return nullptr;
}

std::size_t rank_count() {
  const auto r = ranks();
  return r ? r->size() : 1;
}

bool rank_zero() {
  const auto r = ranks();
  return !r || r->rank() == 0;
}

void stop_ranks() {
#if DEEPID_CLI_MPI
  session().reset();
#endif
}

void abort_ranks(int status) {
#if DEEPID_CLI_MPI
  if (session() && session()->size() > 1) session()->abort(status);
#endif
  std::exit(status);
}

}  // namespace deepid_cli
