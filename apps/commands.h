// The vitality subcommands. Each takes argv from the subcommand's name onwards, returns the
// process exit code, and lets vt::Error escape for main() to print.
#pragma once

namespace vt::apps {

int run_demo(int argc, char** argv);
int run_walkthrough(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_bench_ops(int argc, char** argv);
int run_bench_loader(int argc, char** argv);
int run_hw(int argc, char** argv);
int run_inspect(int argc, char** argv);
int run_train(int argc, char** argv);
int run_eval(int argc, char** argv);
int run_predict(int argc, char** argv);
int run_plot(int argc, char** argv);

}  // namespace vt::apps
