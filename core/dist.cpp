// MPI behind dist.h; the single-process versions when VITALITY_MPI is off.
#include "core/dist.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "core/error.h"

#ifdef VITALITY_MPI
#include <mpi.h>
#endif

namespace vt::dist {

namespace {
int g_rank = 0, g_world = 1;
bool g_initialised = false;

#ifdef VITALITY_MPI
// MPI counts are ints: long buffers go in pieces.
constexpr int64_t kChunk = int64_t{1} << 28;
void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Error(str_cat("MPI ", what, " failed on rank ", g_rank, " (code ", rc, ")"));
}
#endif
}  // namespace

void init(int& argc, char**& argv) {
#ifdef VITALITY_MPI
  // Only initialise MPI when a launcher started us (mpirun, srun): a plain `vitality train` then
  // needs no MPI runtime at all.
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK") ||
                        std::getenv("SLURM_STEP_ID");
  if (launched && !g_initialised) {
    check(MPI_Init(&argc, &argv), "Init");
    g_initialised = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_world);
  }
#else
  (void)argc;
  (void)argv;
#endif
}

void finalize() {
#ifdef VITALITY_MPI
  if (g_initialised) {
    MPI_Finalize();
    g_initialised = false;
  }
#endif
}

int rank() { return g_rank; }
int world_size() { return g_world; }
bool is_main() { return g_rank == 0; }

void allreduce_sum(float* data, int64_t n) {
  if (g_world == 1) return;
#ifdef VITALITY_MPI
  for (int64_t i = 0; i < n; i += kChunk)
    check(MPI_Allreduce(MPI_IN_PLACE, data + i, static_cast<int>(std::min(kChunk, n - i)), MPI_FLOAT, MPI_SUM,
                        MPI_COMM_WORLD),
          "Allreduce");
#else
  (void)data;
  (void)n;
#endif
}

void allreduce_sum(double* data, int64_t n) {
  if (g_world == 1) return;
#ifdef VITALITY_MPI
  for (int64_t i = 0; i < n; i += kChunk)
    check(MPI_Allreduce(MPI_IN_PLACE, data + i, static_cast<int>(std::min(kChunk, n - i)), MPI_DOUBLE, MPI_SUM,
                        MPI_COMM_WORLD),
          "Allreduce");
#else
  (void)data;
  (void)n;
#endif
}

void broadcast(std::string& text) {
  if (g_world == 1) return;
#ifdef VITALITY_MPI
  int64_t size = static_cast<int64_t>(text.size());
  check(MPI_Bcast(&size, 1, MPI_INT64_T, 0, MPI_COMM_WORLD), "Bcast");
  text.resize(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; i += kChunk)
    check(MPI_Bcast(text.data() + i, static_cast<int>(std::min(kChunk, size - i)), MPI_CHAR, 0, MPI_COMM_WORLD),
          "Bcast");
#endif
}

void barrier() {
  if (g_world == 1) return;
#ifdef VITALITY_MPI
  check(MPI_Barrier(MPI_COMM_WORLD), "Barrier");
#endif
}

void abort(int code) {
#ifdef VITALITY_MPI
  if (g_initialised && g_world > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace vt::dist
