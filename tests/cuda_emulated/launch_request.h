// One line of the emulation's launch list (written by emulation.py):
//   <id> <op> key=value ...
// names the op whose CUDA launcher is emulated, its scalar arguments, and the files that hold its
// arrays (raw, native byte order, in the list's folder). Outputs go to "<id>.<name>" there.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/kernel_launch.h"
#include "roi_align_common.h"

namespace slowbench {
namespace emulation {

class LaunchRequest {
 public:
  LaunchRequest(std::filesystem::path folder, const std::string& line);

  const std::string& id() const {
    return id_;
  }
  const std::string& op() const {
    return op_;
  }
  // The value of `key`; a missing key is an error naming it.
  const std::string& text(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  double real(const std::string& key) const;
  std::vector<int64_t> integers(const std::string& key) const;  // comma-separated

  // The array in the file named by `key`: exactly as many elements as the file holds, so that a
  // kernel reading past them reads past the allocation (what AddressSanitizer reports).
  template <typename T>
  std::vector<T> array(const std::string& key) const {
    const std::vector<char> bytes = read_bytes(key, sizeof(T));
    std::vector<T> values(bytes.size() / sizeof(T));
    std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(values.data()));
    return values;
  }

  template <typename T>
  void write(const std::string& name, const std::vector<T>& values) const {
    write_bytes(name, values.data(), values.size() * sizeof(T));
  }

 private:
  std::vector<char> read_bytes(const std::string& key, size_t element_size) const;
  void write_bytes(const std::string& name, const void* data, size_t size) const;

  std::filesystem::path folder_;
  std::string id_, op_;
  std::map<std::string, std::string> args_;
};

// The RoIAlign geometry of a request: N C T H W (input sizes), ph pw scale sampling_ratio aligned.
RoiAlignGeometry roi_geometry(const LaunchRequest& r);

// The request's temporal mode: true for "max", false for "avg" (anything else is an error).
bool is_max_mode(const LaunchRequest& r);

// A strided 5-d array: its elements (the storage the strides walk, from the first element to the
// last one they reach) and strides. `sizes_key`/`strides_key` name its sizes and strides; the
// file must hold exactly the elements the strides reach (an error otherwise).
template <typename T>
struct StridedArray {
  std::vector<T> values;
  cuda::Strides5 strides;
};

// Elements from the first to the last one a tensor of `sizes` and `strides` reaches (0 when empty).
int64_t strided_extent(const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides);

template <typename T>
StridedArray<T> strided_array(
    const LaunchRequest& r, const std::string& key, const std::vector<int64_t>& sizes) {
  const std::vector<int64_t> s = r.integers(key + "_strides");
  StridedArray<T> a{r.array<T>(key), {s.at(0), s.at(1), s.at(2), s.at(3), s.at(4)}};
  if (static_cast<int64_t>(a.values.size()) != strided_extent(sizes, s)) {
    throw std::runtime_error(
        r.id() + ": " + key + " holds " + std::to_string(a.values.size()) +
        " elements, its strides reach " + std::to_string(strided_extent(sizes, s)));
  }
  return a;
}

}  // namespace emulation
}  // namespace slowbench
