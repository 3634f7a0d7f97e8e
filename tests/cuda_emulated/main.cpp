// slowbench's CUDA kernels emulated on the CPU (HIP-CPU): runs every launch of
// <folder>/launches.txt (written by emulation.py) in order, writes each one's outputs to the
// folder and prints one report line per launch: "<id> launched=... blocks=... ...".
// Exit status: 0 when every launch ran, 2 on a bad request (the error on stderr); the sanitized
// build aborts with its own report on a memory or undefined-behaviour error.
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>

#include "emulated_ops.h"
#include "launch_request.h"

namespace {

using slowbench::emulation::LaunchRequest;

const std::map<std::string, std::function<std::string(const LaunchRequest&)>>& emulated_ops() {
  namespace e = slowbench::emulation;
  static const std::map<std::string, std::function<std::string(const LaunchRequest&)>> ops{
      {"roi_align_3d", e::roi_align_3d},
      {"roi_align_3d_backward", e::roi_align_3d_backward},
      {"roi_align_3d_pool", e::roi_align_3d_pool},
      {"roi_align_3d_pool_backward", e::roi_align_3d_pool_backward},
      {"temporal_pool", e::temporal_pool},
      {"temporal_pool_backward", e::temporal_pool_backward},
  };
  return ops;
}

void run_list(const std::filesystem::path& folder) {
  std::ifstream list(folder / "launches.txt");
  if (!list) {
    throw std::runtime_error("cannot read " + (folder / "launches.txt").string());
  }
  std::string line;
  while (std::getline(list, line)) {
    if (line.empty()) {
      continue;
    }
    const LaunchRequest request(folder, line);
    const auto op = emulated_ops().find(request.op());
    if (op == emulated_ops().end()) {
      throw std::runtime_error(request.id() + ": unknown op '" + request.op() + "'");
    }
    std::cout << request.id() << " " << op->second(request) << std::endl;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " FOLDER (holding launches.txt and its arrays)\n";
    return 2;
  }
  try {
    run_list(argv[1]);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
