#include "launch_request.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace slowbench {
namespace emulation {

LaunchRequest::LaunchRequest(std::filesystem::path folder, const std::string& line)
    : folder_(std::move(folder)) {
  std::istringstream in(line);
  if (!(in >> id_ >> op_)) {
    throw std::runtime_error("bad launch line: '" + line + "'");
  }
  std::string pair;
  while (in >> pair) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos) {
      throw std::runtime_error(id_ + ": argument without '=': '" + pair + "'");
    }
    args_[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
}

const std::string& LaunchRequest::text(const std::string& key) const {
  const auto it = args_.find(key);
  if (it == args_.end()) {
    throw std::runtime_error(id_ + " (" + op_ + "): missing argument '" + key + "'");
  }
  return it->second;
}

int64_t LaunchRequest::integer(const std::string& key) const {
  return std::stoll(text(key));
}

double LaunchRequest::real(const std::string& key) const {
  return std::stod(text(key));
}

std::vector<int64_t> LaunchRequest::integers(const std::string& key) const {
  std::vector<int64_t> values;
  std::istringstream in(text(key));
  std::string item;
  while (std::getline(in, item, ',')) {
    values.push_back(std::stoll(item));
  }
  return values;
}

std::vector<char> LaunchRequest::read_bytes(const std::string& key, size_t element_size) const {
  const std::filesystem::path path = folder_ / text(key);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(id_ + ": cannot read " + path.string());
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() % element_size != 0) {
    throw std::runtime_error(
        id_ + ": " + path.string() + " is not a whole number of " + std::to_string(element_size) +
        "-byte elements");
  }
  return bytes;
}

void LaunchRequest::write_bytes(const std::string& name, const void* data, size_t size) const {
  const std::filesystem::path path = folder_ / (id_ + "." + name);
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    throw std::runtime_error(id_ + ": cannot write " + path.string());
  }
}

RoiAlignGeometry roi_geometry(const LaunchRequest& r) {
  return {r.integer("N"),           r.integer("C"),  r.integer("T"),
          r.integer("H"),           r.integer("W"),  r.integer("ph"),
          r.integer("pw"),          r.real("scale"), r.integer("sampling_ratio"),
          r.integer("aligned") != 0};
}

bool is_max_mode(const LaunchRequest& r) {
  const std::string& mode = r.text("mode");
  if (mode != "avg" && mode != "max") {
    throw std::runtime_error(r.id() + ": mode must be avg or max, got " + mode);
  }
  return mode == "max";
}

int64_t strided_extent(const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides) {
  if (sizes.size() != strides.size()) {
    throw std::runtime_error("sizes and strides differ in rank");
  }
  int64_t last = 0;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) {
      return 0;
    }
    last += (sizes[d] - 1) * strides[d];
  }
  return last + 1;
}

}  // namespace emulation
}  // namespace slowbench
