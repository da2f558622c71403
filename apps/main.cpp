// vitality: one executable, git-style subcommands (apps/README.md). main() is the only place
// that turns an exception into an exit code: 2 for usage errors, 1 for everything else.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "apps/args.h"
#include "apps/commands.h"
#include "core/dist.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const Command kCommands[] = {
    {"train", vt::apps::run_train, "train a DeiT (no flags: the Fashion-MNIST main job comparing attention kinds)"},
    {"eval", vt::apps::run_eval, "evaluate a checkpoint on a validation set"},
    {"predict", vt::apps::run_predict, "top-k classes of single images"},
    {"plot", vt::apps::run_plot, "SVG chart of loss, accuracy and learning rate from log.txt files"},
    {"demo", vt::apps::run_demo, "fit a small MLP with the autograd engine and print the falling loss"},
    {"walkthrough", vt::apps::run_walkthrough,
     "the educational walkthrough: from a tensor to a vision transformer and its accelerator, in chapters"},
    {"inspect", vt::apps::run_inspect,
     "list the tensors, parameter count and metadata of a safetensors file or a model"},
    {"hw", vt::apps::run_hw,
     "cycles, latency and energy of a forward pass on the ViTALiTy accelerator and its baselines"},
    {"bench", vt::apps::run_bench,
     "inference and training throughput with timm's benchmark columns, against the BLAS roofline"},
    {"bench-ops", vt::apps::run_bench_ops, "micro-benchmarks of core kernels against raw BLAS and copy bandwidth"},
    {"bench-loader", vt::apps::run_bench_loader,
     "data-loader throughput and the data wait of DeiT training steps on JPEGs"},
};

void usage(std::ostream& os) {
  os << "usage: vitality <command> [flags]   (vitality <command> --help for its flags)\n\ncommands:\n";
  for (const Command& c : kCommands)
    os << "  " << c.name << std::string(14 - std::strlen(c.name), ' ') << c.summary << "\n";
}

std::string rank_prefix() {
  return vt::dist::world_size() > 1 ? "rank " + std::to_string(vt::dist::rank()) + ": " : "";
}

// One rank failing must end the whole job: the others would wait forever in the next collective.
int fail(int code) {
  if (vt::dist::world_size() > 1) {
    std::cerr.flush();
    vt::dist::abort(code);
  }
  return code;
}

// The command line, without MPI's setup and teardown.
int run(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    try {
      return c.run(argc, argv);
    } catch (const vt::apps::UsageError& e) {
      std::cerr << "vitality " << c.name << ": " << rank_prefix() << e.what() << "\n";
      return fail(2);
    } catch (const std::exception& e) {
      std::cerr << "vitality " << c.name << ": " << rank_prefix() << "error: " << e.what() << "\n";
      return fail(1);
    }
  }
  std::cerr << "vitality: unknown command '" << argv[1] << "'\n";
  usage(std::cerr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) or a full quota must surface as a write error naming the file
  // (AtomicFile keeps the previous checkpoint), not kill the process with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  vt::dist::init(argc, argv);  // MPI, when started by mpirun or srun
  if (vt::dist::world_size() > 1 && !vt::dist::is_main() && !std::freopen("/dev/null", "w", stdout))
    std::perror("vitality: stdout");  // only rank 0 prints (errors still reach stderr)
  const int code = run(argc, argv);
  vt::dist::finalize();
  return code;
}
