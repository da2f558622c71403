// Data-parallel processes over MPI (built with -DVITALITY_MPI=ON, the default when Open MPI is
// installed). Without MPI, or when started without mpirun/srun, there is one process of rank 0
// and every collective is the identity, so callers never branch on the build.
//
//   dist::init(argc, argv);                 // once, first thing in main()
//   if (dist::world_size() > 1) dist::allreduce_sum(grads.data(), grads.size());
//   dist::finalize();                        // at normal exit
//   dist::abort(1);                          // an error on one rank: end every rank, never hang
//
// Collectives must be called by every rank in the same order (MPI's rule).
#pragma once

#include <cstdint>
#include <string>

namespace vt::dist {

void init(int& argc, char**& argv);
void finalize();
int rank();
int world_size();
bool is_main();  // rank 0: the process that prints, logs and writes checkpoints

// In-place sums over all ranks (double accumulation is the caller's choice of type).
void allreduce_sum(float* data, int64_t n);
void allreduce_sum(double* data, int64_t n);
// Rank 0's bytes to every rank (`text` is resized on the others).
void broadcast(std::string& text);
void barrier();
// Ends the whole job with `code` (MPI_Abort): used when one rank fails, so the others never wait
// forever in a collective. Without MPI it is std::exit.
[[noreturn]] void abort(int code);

}  // namespace vt::dist
