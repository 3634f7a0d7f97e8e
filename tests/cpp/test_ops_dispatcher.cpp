// C++ tests of the slowbench ops, called through the PyTorch dispatcher (as any C++ or
// TorchScript user would), on CPU and, when available, CUDA. Exits non-zero on failure.
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

namespace {

using Tensor = at::Tensor;

int g_failures = 0;
int g_checks = 0;

void check(bool ok, const std::string& what) {
  ++g_checks;
  if (!ok) {
    ++g_failures;
    std::cerr << "FAILED: " << what << std::endl;
  }
}

bool close(const Tensor& a, const Tensor& b, double tol = 1e-9) {
  if (a.sizes() != b.sizes()) {
    return false;
  }
  return a.numel() == 0 || at::allclose(a.to(at::kDouble).cpu(), b.to(at::kDouble).cpu(), tol, tol);
}

// Typed handles on the registered operators.
auto roi_align_3d() {
  return c10::Dispatcher::singleton()
      .findSchemaOrThrow("slowbench::roi_align_3d", "")
      .typed<Tensor(const Tensor&, const Tensor&, int64_t, int64_t, double, int64_t, bool)>();
}
auto roi_align_3d_backward() {
  return c10::Dispatcher::singleton()
      .findSchemaOrThrow("slowbench::roi_align_3d_backward", "")
      .typed<Tensor(
          const Tensor&, const Tensor&, c10::SymInt, c10::SymInt, c10::SymInt, c10::SymInt,
          c10::SymInt, int64_t, int64_t, double, int64_t, bool)>();
}
auto temporal_pool() {
  return c10::Dispatcher::singleton()
      .findSchemaOrThrow("slowbench::temporal_pool", "")
      .typed<std::tuple<Tensor, Tensor>(const Tensor&, c10::string_view)>();
}
auto temporal_pool_backward() {
  return c10::Dispatcher::singleton()
      .findSchemaOrThrow("slowbench::temporal_pool_backward", "")
      .typed<Tensor(const Tensor&, const Tensor&, c10::SymInt, c10::string_view)>();
}
auto roi_align_3d_pool() {
  return c10::Dispatcher::singleton()
      .findSchemaOrThrow("slowbench::roi_align_3d_pool", "")
      .typed<std::tuple<Tensor, Tensor>(
          const Tensor&, const Tensor&, int64_t, int64_t, double, int64_t, bool,
          c10::string_view)>();
}
auto roi_align_3d_pool_backward() {
  return c10::Dispatcher::singleton()
      .findSchemaOrThrow("slowbench::roi_align_3d_pool_backward", "")
      .typed<Tensor(
          const Tensor&, const Tensor&, const Tensor&, c10::SymInt, c10::SymInt, c10::SymInt,
          c10::SymInt, c10::SymInt, int64_t, int64_t, double, int64_t, bool, c10::string_view)>();
}

bool throws_with(const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
  } catch (const c10::Error& e) {
    const std::string msg = e.what();
    if (msg.find(needle) != std::string::npos) {
      return true;
    }
    std::cerr << "unexpected message: " << msg << std::endl;
    return false;
  }
  return false;
}

void test_known_values(const at::TensorOptions& opt) {
  // Bilinear interpolation is exact on a linear map: each bin equals the map at its centre.
  const auto yy = at::arange(8, opt).view({8, 1}).expand({8, 8});
  const auto xx = at::arange(8, opt).view({1, 8}).expand({8, 8});
  const auto plane = 10 * yy + xx;
  const auto x = at::stack({plane, 2 * plane}).view({1, 1, 2, 8, 8});
  const auto rois = at::tensor({0.0, 1.5, 1.5, 5.5, 5.5}, opt).view({1, 5});
  const auto out = roi_align_3d().call(x, rois, 2, 2, 1.0, 0, true);
  const auto expected = at::tensor({22.0, 24.0, 42.0, 44.0}, opt).view({2, 2});
  check(close(out[0][0][0], expected), "roi_align_3d known values (t=0)");
  check(close(out[0][0][1], 2 * expected), "roi_align_3d known values (t=1)");
  const auto avg = std::get<0>(roi_align_3d_pool().call(x, rois, 2, 2, 1.0, 0, true, "avg"));
  const auto mx = std::get<0>(roi_align_3d_pool().call(x, rois, 2, 2, 1.0, 0, true, "max"));
  check(close(avg[0][0][0], 1.5 * expected), "roi_align_3d_pool avg known values");
  check(close(mx[0][0][0], 2 * expected), "roi_align_3d_pool max known values");
}

void test_consistency(const at::TensorOptions& opt) {
  at::manual_seed(0);
  const int64_t N = 2, C = 3, T = 5, H = 9, W = 11, ph = 3, pw = 4;
  const auto x = at::randn({N, C, T, H, W}, opt);
  const auto rois =
      at::tensor(
          {0.0,   10.0,  5.0, 120.0, 90.0, 1.0,  -30.0, -20.0, 60.0,  200.0, 1.0,   150.0, 130.0,
           170.0, 140.0, 0.0, 50.0,  50.0, 50.0, 80.0,  1.0,   400.0, 10.0,  500.0, 60.0},
          opt)
          .view({5, 5});
  const double scale = 1.0 / 16;
  const auto per_slice = roi_align_3d().call(x, rois, ph, pw, scale, 0, true);
  check(per_slice.sizes() == at::IntArrayRef({5, C, T, ph, pw}), "roi_align_3d output shape");

  // fused == per-slice RoIAlign followed by pooling over T
  const auto [avg, avg_arg] = roi_align_3d_pool().call(x, rois, ph, pw, scale, 0, true, "avg");
  const auto [mx, mx_arg] = roi_align_3d_pool().call(x, rois, ph, pw, scale, 0, true, "max");
  check(close(avg, per_slice.mean(2, true), 1e-12), "fused avg == mean_t roi_align_3d");
  check(close(mx, std::get<0>(per_slice.max(2, true)), 1e-12), "fused max == max_t roi_align_3d");
  check(avg_arg.numel() == 0 && mx_arg.scalar_type() == at::kShort, "argmax outputs");
  check(
      at::equal(mx_arg.to(at::kLong), std::get<1>(per_slice.max(2, true))),
      "fused argmax == torch.max indices");

  // temporal_pool == torch.max / torch.mean over T
  const auto [tmax, targ] = temporal_pool().call(x, "max");
  check(close(tmax, std::get<0>(x.max(2, true))), "temporal_pool max");
  check(at::equal(targ.to(at::kLong), std::get<1>(x.max(2, true))), "temporal_pool argmax");
  check(
      close(std::get<0>(temporal_pool().call(x, "avg")), x.mean(2, true), 1e-12),
      "temporal_pool avg");

  // Backward = adjoint of the (piecewise) linear forward: <g, f(x)> == <f^T(g), x>.
  const auto g = at::randn(per_slice.sizes(), opt);
  const auto gi = roi_align_3d_backward().call(g, rois, N, C, T, H, W, ph, pw, scale, 0, true);
  check(
      std::abs((g * per_slice).sum().item<double>() - (gi * x).sum().item<double>()) < 1e-9,
      "roi_align_3d_backward is the adjoint");
  const auto g1 = at::randn(avg.sizes(), opt);
  for (const char* mode : {"avg", "max"}) {
    const auto& out = std::string(mode) == "avg" ? avg : mx;
    const auto& arg = std::string(mode) == "avg" ? avg_arg : mx_arg;
    const auto gp = roi_align_3d_pool_backward().call(
        g1, rois, arg, N, C, T, H, W, ph, pw, scale, 0, true, mode);
    check(
        std::abs((g1 * out).sum().item<double>() - (gp * x).sum().item<double>()) < 1e-9,
        std::string("roi_align_3d_pool_backward is the adjoint (") + mode + ")");
  }
  const auto gt = at::randn(tmax.sizes(), opt);
  const auto gtp = temporal_pool_backward().call(gt, targ, T, "max");
  check(
      std::abs((gt * tmax).sum().item<double>() - (gtp * x).sum().item<double>()) < 1e-9,
      "temporal_pool_backward is the adjoint");

  // K = 0: empty output, zero gradient
  const auto none = rois.narrow(0, 0, 0);
  check(roi_align_3d().call(x, none, ph, pw, scale, 0, true).numel() == 0, "K = 0 forward");
  const auto gz = roi_align_3d_backward().call(
      per_slice.narrow(0, 0, 0), none, N, C, T, H, W, ph, pw, scale, 0, true);
  check(gz.sizes() == x.sizes() && gz.abs().sum().item<double>() == 0, "K = 0 backward");
}

void test_errors(const at::TensorOptions& opt) {
  const auto x = at::randn({2, 3, 4, 5, 6}, opt);
  auto bad = at::tensor({2.0, 0.0, 0.0, 10.0, 10.0}, opt).view({1, 5});
  check(
      throws_with(
          [&] { roi_align_3d().call(x, bad, 2, 2, 1.0, 0, true); },
          "rois[0, 0] (batch index) is 2"),
      "batch index out of range is rejected");
  bad = at::tensor({0.5, 0.0, 0.0, 10.0, 10.0}, opt).view({1, 5});
  check(
      throws_with(
          [&] { roi_align_3d_pool().call(x, bad, 2, 2, 1.0, 0, true, "max"); },
          "expected an integer"),
      "fractional batch index is rejected");
  bad = at::tensor({0.0, 0.0, NAN, 10.0, 10.0}, opt).view({1, 5});
  check(
      throws_with(
          [&] { roi_align_3d().call(x, bad, 2, 2, 1.0, 0, true); }, "rois[0, 2] (box coordinate)"),
      "non-finite coordinate is rejected");
  check(
      throws_with(
          [&] { roi_align_3d().call(x[0], bad, 2, 2, 1.0, 0, true); }, "input must have shape"),
      "wrong input rank is rejected");
  check(
      throws_with([&] { temporal_pool().call(x, "min"); }, "mode must be \"avg\" or \"max\""),
      "bad temporal mode is rejected");
}

}  // namespace

int main() {
  std::vector<at::TensorOptions> devices = {at::TensorOptions().dtype(at::kDouble)};
  if (torch::cuda::is_available()) {
    devices.push_back(at::TensorOptions().dtype(at::kDouble).device(at::kCUDA));
  }
  for (const auto& opt : devices) {
    std::cout << "device " << opt.device() << std::endl;
    test_known_values(opt);
    test_consistency(opt);
    test_errors(opt);
  }
  std::cout << (g_checks - g_failures) << " passed, " << g_failures << " failed" << std::endl;
  return g_failures == 0 ? 0 : 1;
}
