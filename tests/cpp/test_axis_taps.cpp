// AxisTapCursor (csrc/roi_align_common.h), which every RoI kernel takes its taps from (the CPU
// op's and the CUDA table's stored, the CUDA direct path's on the fly), against a reference
// that merges every repeated index in sample order, however far back: the same indices in the
// same order, and bitwise the same weights. Cases: random boxes (inverted ones too) and grids,
// and samples on pixel rows, at the borders and outside the map. Exits non-zero on failure.
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "roi_align_common.h"

namespace {

using slowbench::AxisSample;
using slowbench::AxisTapCursor;

template <typename acc_t>
struct Taps {
  std::vector<int64_t> index;
  std::vector<acc_t> weight;
};

// Every sample's two neighbours, each index's weights added in sample order, indices in the
// order they first appear.
template <typename acc_t>
Taps<acc_t> reference_taps(
    acc_t start, acc_t bin, int64_t grid, int64_t p, int64_t size, acc_t scale) {
  Taps<acc_t> taps;
  auto add = [&](int64_t index, acc_t weight) {
    for (size_t j = 0; j < taps.index.size(); ++j) {
      if (taps.index[j] == index) {
        taps.weight[j] += weight;
        return;
      }
    }
    taps.index.push_back(index);
    taps.weight.push_back(weight);
  };
  for (int64_t i = 0; i < grid; ++i) {
    const AxisSample<acc_t> s =
        slowbench::axis_sample(slowbench::sample_position(start, bin, grid, p, i), size);
    if (s.valid) {
      add(s.lo, s.w_lo * scale);
      add(s.hi, s.w_hi * scale);
    }
  }
  return taps;
}

template <typename acc_t>
Taps<acc_t> cursor_taps(
    acc_t start, acc_t bin, int64_t grid, int64_t p, int64_t size, acc_t scale) {
  Taps<acc_t> taps;
  AxisTapCursor<acc_t> cursor(start, bin, grid, p, size, scale);
  int64_t index;
  acc_t weight;
  while (cursor.next(index, weight)) {
    taps.index.push_back(index);
    taps.weight.push_back(weight);
  }
  return taps;
}

template <typename acc_t>
bool same_taps(acc_t start, acc_t bin, int64_t grid, int64_t p, int64_t size, acc_t scale) {
  const Taps<acc_t> expected = reference_taps(start, bin, grid, p, size, scale);
  const Taps<acc_t> actual = cursor_taps(start, bin, grid, p, size, scale);
  if (expected.index == actual.index && expected.weight == actual.weight) {
    return true;
  }
  std::cerr << "FAILED (" << sizeof(acc_t) * 8 << "-bit): start " << start << " bin " << bin
            << " grid " << grid << " p " << p << " size " << size << ": " << actual.index.size()
            << " taps, expected " << expected.index.size() << "\n";
  return false;
}

template <typename acc_t>
int check_random_cases(std::mt19937_64& rng, int cases) {
  std::uniform_real_distribution<double> position(-20.0, 60.0), length(-30.0, 80.0);
  std::uniform_int_distribution<int64_t> grid(1, 300), size(1, 50), bin_index(0, 7);
  int failures = 0;
  for (int c = 0; c < cases; ++c) {
    const int64_t g = grid(rng), pooled_p = bin_index(rng);
    const acc_t bin = static_cast<acc_t>(length(rng)) / acc_t(8);
    failures += !same_taps<acc_t>(
        static_cast<acc_t>(position(rng)), bin, g, pooled_p, size(rng), acc_t(1) / acc_t(g));
  }
  return failures;
}

// Samples exactly on pixel rows (weights of 0), clamped at both borders, or all outside.
template <typename acc_t>
int check_edge_cases() {
  int failures = 0;
  for (int64_t size : {1, 2, 5}) {
    for (int64_t grid : {1, 2, 4, 64}) {
      for (acc_t start : {acc_t(-3), acc_t(-1), acc_t(-0.5), acc_t(0), acc_t(1), acc_t(4.5)}) {
        for (acc_t bin : {acc_t(-2), acc_t(0), acc_t(0.25), acc_t(1), acc_t(2), acc_t(8)}) {
          failures += !same_taps<acc_t>(start, bin, grid, 0, size, acc_t(1));
          failures += !same_taps<acc_t>(start, bin, grid, 3, size, acc_t(0.5));
        }
      }
    }
  }
  return failures;
}

}  // namespace

int main() {
  std::mt19937_64 rng(25);
  const int failures = check_random_cases<float>(rng, 20000) +
                       check_random_cases<double>(rng, 20000) + check_edge_cases<float>() +
                       check_edge_cases<double>();
  if (failures != 0) {
    std::cerr << failures << " tap lists differ\n";
    return 1;
  }
  std::cout << "AxisTapCursor: every tap list equals the reference\n";
  return 0;
}
