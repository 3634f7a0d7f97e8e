// What a RoI kernel launch did with its work, for the report: channels per block, and how many
// RoIs took the tap-table path and the direct path (csrc/cuda/roi_taps.cuh), so that the tests
// can check that their cases reach both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emulated_launch.h"  // HIP-CPU first
#include "cuda/roi_taps.cuh"

namespace slowbench {
namespace emulation {

template <typename acc_t>
std::string describe_roi_launch(
    const cuda::RoiChunks& chunks, const std::vector<acc_t>& rois, const RoiAlignGeometry& g) {
  int64_t table = 0, direct = 0;
  for (size_t k = 0; k + 5 <= rois.size(); k += 5) {
    const RoiBox<acc_t> box = make_roi_box<acc_t>(rois.data() + k, g);
    table += cuda::uses_tap_table(box, g) ? 1 : 0;
    direct += box.batch >= 0 && !cuda::uses_tap_table(box, g) ? 1 : 0;
  }
  return " chunk=" + std::to_string(chunks.chunk) +
         " num_chunks=" + std::to_string(chunks.num_chunks) +
         " table_rois=" + std::to_string(table) + " direct_rois=" + std::to_string(direct);
}

}  // namespace emulation
}  // namespace slowbench
