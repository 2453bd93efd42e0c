#pragma once
// check_gradients(model, ...): a numerical gradient check of a whole network,
// in the spirit of dlib's test_layer. For a model<Net, double>, an input batch
// x and a random linear loss L = sum_i r_i * output_i over every output (each
// head's and the main one), it compares what backward_outputs() returns
// (every parameter tensor and dL/dx) with the central difference
// (L(v + h) - L(v - h)) / 2h, one coordinate at a time.
//
//   deepid::model<my_stack, double> m(deepid::init::seed{1});
//   const auto result = deepid::check_gradients(m);
//   if (!result.ok()) std::cerr << result.str() << '\n';
//
// To test one layer, wrap it in a tiny stack (input<2, 5, 5>, your_layer).
//
// Kinks. deepid's layers are piecewise linear (ReLU, max pooling), so along
// one coordinate L is a polyline. When [v - h, v + h] contains a kink, the
// central difference is not the derivative at v. The checker sees this in the
// one-sided slopes over [v - h, v] and [v, v + h], which agree up to rounding
// on a linear piece. It then halves both sides: a side whose two halves agree
// is linear, and its slope is the derivative at v. A coordinate with kinks on
// both sides, or at v itself (no derivative there), is skipped and counted,
// never compared more loosely; a check that skips more than
// max_skipped_fraction of its coordinates fails.
//
// Stochastic layers. Every evaluation runs on a copy of the model as it was
// before the check, so with pass = mode::training dropout draws one mask for
// the analytic pass and all the differences. The model's parameters are left
// unchanged; its gradients() are those of the analytic pass.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/net/model.hpp"

DEEPID_NAMESPACE_BEGIN

struct gradient_check_options {
  std::size_t batch = 3;                 // samples in the random input (the overload without an input)
  double step = 1e-4;                    // h of the differences
  double tolerance = 1e-5;               // largest relative error ok() accepts (correct code: ~1e-7)
  double floor = 1e-4;                   // errors divide by max(|analytic|, |numeric|, floor)
  double max_skipped_fraction = 0.05;    // of the coordinates, skipped at kinks
  std::size_t max_per_tensor = 0;        // coordinates checked per parameter tensor; 0: all
  std::size_t max_inputs = 0;            // input coordinates checked; 0: all
  bool check_input = true;               // also check dL/dx
  mode pass = mode::inference;           // mode::training: dropout on, one fixed mask
  std::uint64_t seed = 1;                // the input, the loss weights r and the sampled coordinates
};

// The outcome for one group of coordinates (parameters, or the input).
struct gradient_check_report {
  double max_error = 0.0;                // largest relative error among the compared coordinates
  std::string worst;                     // where: "3.weight[17]" (PyTorch layout) or "input[1,0,4,2]"
  double analytic = 0.0, numeric = 0.0;  // the two derivatives there
  std::size_t compared = 0, skipped = 0;

  bool ok(double tolerance, double max_skipped_fraction) const {
    return max_error <= tolerance && double(skipped) <= max_skipped_fraction * double(compared + skipped);
  }
  std::string str() const {
    return "max relative error " + number(max_error) + " at " + (worst.empty() ? "-" : worst) + " (analytic " +
           number(analytic) + ", numeric " + number(numeric) + "), " + std::to_string(compared) + " compared, " +
           std::to_string(skipped) + " skipped at kinks";
  }
  static std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", v);
    return text;
  }
};

struct gradient_check_result {
  gradient_check_report parameters, input;
  double tolerance = 0.0, max_skipped_fraction = 0.0;

  bool ok() const {
    return parameters.ok(tolerance, max_skipped_fraction) && input.ok(tolerance, max_skipped_fraction);
  }
  double max_error() const { return std::max(parameters.max_error, input.max_error); }
  std::string str() const {
    return "parameters: " + parameters.str() + "\ninput: " + input.str() + "\n(tolerance " +
           gradient_check_report::number(tolerance) + ")";
  }
};

namespace detail {

// `count` of the indices 0..size-1 in increasing order (all when count is 0).
inline std::vector<std::size_t> pick_coordinates(std::size_t size, std::size_t count, rng& gen) {
  if (count == 0 || count > size) count = size;
  std::vector<std::size_t> picked;
  picked.reserve(count);
  for (std::size_t i = 0; i < size && picked.size() < count; ++i)  // selection sampling
    if (gen.uniform() * double(size - i) < double(count - picked.size())) picked.push_back(i);
  return picked;
}

// "input[sample,channel,row,column]" for index i of an NCHW batch.
inline std::string input_coordinate_name(std::size_t i, shape3 shape) {
  const std::size_t plane = shape.h * shape.w;
  return "input[" + std::to_string(i / shape.size()) + "," + std::to_string(i / plane % shape.c) + "," +
         std::to_string(i % plane / shape.w) + "," + std::to_string(i % shape.w) + "]";
}

// The slope of L at v from differences, where loss = L(v) and loss_at(u)
// evaluates L(u); nothing where kinks cannot be stepped around (see the
// header comment).
template <class LossAt>
std::optional<double> numeric_slope(double v, double loss, LossAt&& loss_at,
                                    const gradient_check_options& options) {
  const auto agree = [&](double a, double b) {
    return std::abs(a - b) <= options.tolerance * std::max({std::abs(a), std::abs(b), options.floor});
  };
  const auto slope = [](double from, double loss_from, double to, double loss_to) {
    return (loss_to - loss_from) / (to - from);  // to - from: the step as represented
  };
  const double up = v + options.step, down = v - options.step;
  const double loss_up = loss_at(up), loss_down = loss_at(down);
  const double slope_up = slope(v, loss, up, loss_up), slope_down = slope(down, loss_down, v, loss);
  if (agree(slope_up, slope_down)) return slope(down, loss_down, up, loss_up);  // the central difference

  // A kink within a step: a side whose two halves agree is linear.
  const double mid_up = v + options.step / 2, mid_down = v - options.step / 2;
  const double loss_mid_up = loss_at(mid_up), loss_mid_down = loss_at(mid_down);
  const bool up_linear = agree(slope(v, loss, mid_up, loss_mid_up), slope(mid_up, loss_mid_up, up, loss_up));
  const bool down_linear =
      agree(slope(down, loss_down, mid_down, loss_mid_down), slope(mid_down, loss_mid_down, v, loss));
  if (up_linear && !down_linear) return slope_up;
  if (down_linear && !up_linear) return slope_down;
  return std::nullopt;  // kinks on both sides, or one at v itself (no derivative there)
}

// Compares one coordinate's analytic derivative with its numeric one.
template <class Where>
void judge_coordinate(gradient_check_report& report, const gradient_check_options& options, double analytic,
                      std::optional<double> numeric, Where&& where) {
  if (!numeric) {
    ++report.skipped;
    return;
  }
  const double error =
      std::abs(analytic - *numeric) / std::max({std::abs(analytic), std::abs(*numeric), options.floor});
  if (report.compared++ == 0 || error > report.max_error) {
    report.max_error = error;
    report.worst = where();
    report.analytic = analytic;
    report.numeric = *numeric;
  }
}

}  // namespace detail

// Checks backward() of `m` on the batch `input` (N x C x H x W, NCHW).
template <class Net>
gradient_check_result check_gradients(model<Net, double>& m, std::span<const double> input,
                                      const gradient_check_options& options = {}) {
  using model_type = model<Net, double>;
  constexpr shape3 in_shape = model_type::input_shape;
  if (input.empty() || input.size() % in_shape.size() != 0)
    throw error("check_gradients: the input holds " + std::to_string(input.size()) +
                " values, not a positive multiple of one " + in_shape.str() + " sample");
  const std::size_t n = input.size() / in_shape.size();

  rng gen(mix64(options.seed));
  constexpr std::size_t outputs = model_type::output_count;
  std::array<std::vector<double>, outputs> r;
  std::array<const double*, outputs> dout{};
  for (std::size_t k = 0; k < outputs; ++k) {
    r[k].resize(n * model_type::output_shape_of(k).size());
    for (auto& w : r[k]) w = gen.normal();
    dout[k] = r[k].data();
  }
  const auto loss_of = [&](model_type& net, const double* x) {
    net.forward(x, n, options.pass, head_pass::run);
    double sum = 0.0;
    for (std::size_t k = 0; k < outputs; ++k) {
      const double* out = net.output(k);
      for (std::size_t i = 0; i < r[k].size(); ++i) sum += r[k][i] * out[i];
    }
    return sum;
  };

  // The analytic gradients: dL/doutput = r. Differences run on `probe`.
  const model_type before = m;
  model_type probe = before;
  std::vector<double> dinput(input.size());
  const double loss = loss_of(m, input.data());
  m.backward_outputs(dout, dinput.data());

  gradient_check_result result;
  result.tolerance = options.tolerance;
  result.max_skipped_fraction = options.max_skipped_fraction;

  // Parameters, tensor by tensor, perturbed through their PyTorch layout.
  for (const auto& tensor : before.parameter_tensors()) {
    const std::vector<double> gradient = m.get_gradient(tensor.name);
    std::vector<double> values = before.get_parameter(tensor.name);
    for (const std::size_t i : detail::pick_coordinates(values.size(), options.max_per_tensor, gen)) {
      const double v = values[i];
      const auto loss_at = [&](double perturbed) {
        values[i] = perturbed;
        probe = before;
        probe.set_parameter(tensor.name, values);
        values[i] = v;
        return loss_of(probe, input.data());
      };
      detail::judge_coordinate(result.parameters, options, gradient[i],
                               detail::numeric_slope(v, loss, loss_at, options),
                               [&] { return tensor.name + "[" + std::to_string(i) + "]"; });
    }
  }

  // The input.
  if (options.check_input) {
    std::vector<double> x(input.begin(), input.end());
    for (const std::size_t i : detail::pick_coordinates(x.size(), options.max_inputs, gen)) {
      const double v = x[i];
      const auto loss_at = [&](double perturbed) {
        x[i] = perturbed;
        probe = before;
        const double l = loss_of(probe, x.data());
        x[i] = v;
        return l;
      };
      detail::judge_coordinate(result.input, options, dinput[i], detail::numeric_slope(v, loss, loss_at, options),
                               [&] { return detail::input_coordinate_name(i, in_shape); });
    }
  }

  return result;
}

// Checks backward() of `m` on a random batch of options.batch samples, N(0, 1).
template <class Net>
gradient_check_result check_gradients(model<Net, double>& m, const gradient_check_options& options = {}) {
  rng gen(options.seed);
  std::vector<double> input(options.batch * model<Net, double>::input_shape.size());
  for (auto& v : input) v = gen.normal();
  return check_gradients(m, std::span<const double>(input), options);
}

DEEPID_NAMESPACE_END
