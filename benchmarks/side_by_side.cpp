// Side-by-side: deepid, OpenCV dnn and PyTorch on the same DeepID1 nets, the
// same weights and the same inputs, in one invocation.
//
// The machines this runs on are noisy: one measurement
// repeated in fresh processes spans 1.1x-2.3x. So the engines are interleaved
// (deepid, OpenCV, PyTorch eager, PyTorch jit, deepid, ...) for several
// rounds, and what is reported is each engine's median, the ratio per round
// and the median ratio, with the CPU load of other processes during the case.
//
// Cases: inferN (forward of N samples), trainN (forward, 10,000-way softmax
// cross-entropy, backward, SGD with momentum on N samples) and jointN: the
// DeepID2 training step on N/2 pairs drawn from a set of 640 identities x 10
// patches (random partners, half of them positive, random flips), softmax on
// all N samples over 10,000 classes plus lambda = 0.05 times the L2
// contrastive loss of each pair. deepid runs it through train::trainer (pair
// gathering, margin re-fit, epoch-end validation included); PyTorch gathers
// the same kind of batch by indexing its copy of the patches.
//
// OpenCV dnn runs in this process (the net is built layer by layer with the
// weights deepid exports); PyTorch runs in one /usr/bin/python3 subprocess
// (benchmarks/peers/torch_bench.py) driven over a pipe, so it stays warm.
//
// The deeper nets (55x47x3 patches, 512-d features, three supervised heads):
//   d2plus           DeepID2+ as in the paper (conv3 locally shared on 2x2
//                    regions, conv4 locally connected)
//   d2plus-plain     the same with ordinary convolutions (conv<128,3>, conv<128,2>)
//   d3net1           DeepID3 net1 (VGG; top two layers locally connected), paper widths
//   d3net1-plain     the same with conv<256,3,1,1> for the locally connected layers
//   d3net2           DeepID3 net2 (Inception), paper widths
//   d3net1-reduced, d3net1-reduced-plain, d3net2-reduced: a quarter of the widths
// On them inferN is feature extraction: the main path only (deepid
// head_pass::skip; the peers compute the same path without the heads), and
// trainN supervises all four outputs: forward in training mode with the
// heads, a 10,000-way softmax classifier on each output (sum of the four
// cross-entropies), backward_outputs, SGD with momentum on the net and the
// four classifiers. OpenCV dnn runs the nets made of ordinary layers (its net
// is built from deepid's layer table and exported weights); PyTorch all of
// them (torch_deepid.SpecNet). jointN is for the DeepID1 nets only.
//
// The key vgg3x3 (in --nets) measures this machine's GEMM rate (Eigen, and
// OpenBLAS where found) at 1 and 2 threads and deepid's padded 3x3
// convolutions of DeepID3 net1 at batch 128 against it
// (side_by_side_gemm.hpp).
//
//   side_by_side [--rounds 7] [--threads 1,2] [--nets plain39,paper39,plain31,paper31,d2plus,...,vgg3x3]
//                [--cases infer1,infer128,train128,joint128] [--target-ms 200] [--no-torch]
//                [--no-opencv] [--python /usr/bin/python3] [--torch-blas DIR|auto] [--markdown FILE]
//                [--layers]
//
// --layers: after each deeper net's cases, deepid's training step (batch 128)
// timed layer by layer (side_by_side_layers.hpp), to see where the time goes.
//
// --torch-blas auto looks for OpenBLAS's libblas.so.3 in the system folders
// and in <build folder>/openblas/root/usr/lib/x86_64-linux-gnu/openblas-pthread
// (where `apt-get download libopenblas0-pthread && dpkg -x *.deb root`, run
// in <build folder>/openblas, puts it without installing it).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Eigen/Core>
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <xsimd/xsimd.hpp>

#include <deepid/deepid.hpp>

#include "side_by_side_gemm.hpp"
#include "side_by_side_layers.hpp"

namespace dp = deepid;
using clock_type = std::chrono::steady_clock;

#ifndef DEEPID_SOURCE_DIR
#define DEEPID_SOURCE_DIR "."
#endif

namespace {

constexpr std::size_t classes = 10'000;
constexpr std::size_t feature_dim = 160;
constexpr double classifier_flops = 2.0 * feature_dim * classes;  // 3.2 MFLOP per sample
constexpr float learning_rate = 0.01f, momentum = 0.9f;

// ---------------------------------------------------------------- options

struct options {
  int rounds = 7;
  std::vector<int> threads{1, 2};
  std::vector<std::string> nets{"plain39", "paper39", "plain31", "paper31"};
  std::vector<std::string> cases{"infer1", "infer128", "train128", "joint128"};
  double target_s = 0.2;  // length of one measurement
  bool torch = true, opencv = true;
  bool layers = false;  // --layers: deepid's training step of each deeper net layer by layer
  std::string python = "/usr/bin/python3";
  std::string script = DEEPID_SOURCE_DIR "/benchmarks/peers/torch_bench.py";
  std::string blas_dir = "auto";  // folder with OpenBLAS's libblas.so.3 for the PyTorch peer
  std::string markdown;
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, sep);)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
      return argv[++i];
    };
    if (a == "--rounds") o.rounds = std::stoi(value());
    else if (a == "--threads") {
      o.threads.clear();
      for (const auto& t : split(value(), ',')) o.threads.push_back(std::stoi(t));
    } else if (a == "--nets") o.nets = split(value(), ',');
    else if (a == "--cases") o.cases = split(value(), ',');
    else if (a == "--target-ms") o.target_s = std::stod(value()) / 1000.0;
    else if (a == "--no-torch") o.torch = false;
    else if (a == "--no-opencv") o.opencv = false;
    else if (a == "--layers") o.layers = true;
    else if (a == "--python") o.python = value();
    else if (a == "--torch-script") o.script = value();
    else if (a == "--torch-blas") o.blas_dir = value();
    else if (a == "--markdown") o.markdown = value();
    else throw std::runtime_error("unknown option " + a + " (see the header of side_by_side.cpp)");
  }
  if (o.rounds < 1) throw std::runtime_error("--rounds must be at least 1");
  return o;
}

// ---------------------------------------------------------------- CPU load

// Jiffies: busy time of the whole machine, and of this process plus the
// PyTorch child; the difference is what other processes used.
struct cpu_sample {
  double machine_busy = 0, ours = 0, steal = 0;
  clock_type::time_point when = clock_type::now();
};

double process_jiffies(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), {});
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::stringstream rest(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stod(field);
    if (i == 15) { stime = std::stod(field); break; }
  }
  return utime + stime;
}

cpu_sample sample_cpu(pid_t child) {
  cpu_sample s;
  std::ifstream f("/proc/stat");
  std::string cpu;
  double user, nice, system, idle, iowait, irq, softirq, steal = 0;
  f >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  s.machine_busy = user + nice + system + irq + softirq;
  s.steal = steal;
  s.ours = process_jiffies(getpid()) + (child > 0 ? process_jiffies(child) : 0);
  s.when = clock_type::now();
  return s;
}

// Other processes' load in cores (1.0 = one core fully busy) between a and b.
double other_load(const cpu_sample& a, const cpu_sample& b) {
  const double hz = double(sysconf(_SC_CLK_TCK));
  const double seconds = std::chrono::duration<double>(b.when - a.when).count();
  if (seconds <= 0) return 0;
  return std::max(0.0, ((b.machine_busy - a.machine_busy) - (b.ours - a.ours)) / hz / seconds);
}
double steal_load(const cpu_sample& a, const cpu_sample& b) {
  const double seconds = std::chrono::duration<double>(b.when - a.when).count();
  return seconds > 0 ? (b.steal - a.steal) / double(sysconf(_SC_CLK_TCK)) / seconds : 0;
}

// ---------------------------------------------------------------- PyTorch peer

class torch_peer {
 public:
  torch_peer(const std::string& python, const std::string& script, const std::string& blas_dir) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      // Before torch loads: keep OpenBLAS off its own thread pool.
      setenv("OPENBLAS_NUM_THREADS", "1", 1);
      // PyTorch from Debian calls the system libblas.so.3 for its fully
      // connected layers; where that is the reference BLAS it runs 4x slower
      // than with OpenBLAS, so point the peer at OpenBLAS when it is present.
      if (!blas_dir.empty()) {
        const char* old = getenv("LD_LIBRARY_PATH");
        setenv("LD_LIBRARY_PATH", (blas_dir + (old && *old ? std::string(":") + old : "")).c_str(), 1);
      }
      execl(python.c_str(), python.c_str(), "-u", script.c_str(), static_cast<char*>(nullptr));
      std::perror(("side_by_side: cannot start " + python).c_str());
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    to_ = fdopen(to_child[1], "w");
    from_ = fdopen(from_child[0], "r");
  }
  ~torch_peer() {
    if (to_) {
      std::fputs("quit\n", to_);
      std::fclose(to_);
    }
    if (from_) std::fclose(from_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  torch_peer(const torch_peer&) = delete;
  torch_peer& operator=(const torch_peer&) = delete;

  std::string ask(const std::string& line) {
    std::fputs((line + "\n").c_str(), to_);
    std::fflush(to_);
    char reply[4096];
    if (!std::fgets(reply, sizeof reply, from_))
      throw std::runtime_error("PyTorch peer ended (" + python_hint() + ") after: " + line);
    std::string text(reply);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.rfind("error", 0) == 0) throw std::runtime_error("PyTorch peer: " + text);
    return text;
  }
  pid_t pid() const { return pid_; }

 private:
  static std::string python_hint() { return "needs /usr/bin/python3 with python3-torch and numpy"; }
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

// ---------------------------------------------------------------- nets

template <std::size_t H, std::size_t W>
using plain_net = dp::deepid1_plain<dp::patch_shape<3, H, W>>;
template <std::size_t H, std::size_t W>
using paper_net = dp::deepid1<dp::patch_shape<3, H, W>>;

// ---------------------------------------------------------------- deeper nets

using patch55 = dp::patch_shape<3, 55, 47>;
constexpr std::size_t deep_feature_dim = 512;
constexpr double deep_classifier_flops = 2.0 * deep_feature_dim * classes;  // 10.24 MFLOP per sample and output

// DeepID2+'s supervised 512-d layer: fully connected, ReLU, dropout 0.5.
template <dp::fixed_string Name, dp::fixed_string From>
using head512 = dp::head<Name, From, dp::fully_connected<deep_feature_dim>, dp::relu, dp::dropout<0.5>>;

// DeepID2+ with ordinary convolutions: conv3 conv<128,3> instead of locally
// shared, conv4 conv<128,2> instead of locally connected.
using d2plus_plain_net =
    dp::stack<dp::input<3, 55, 47>,
              dp::conv<128, 4>, dp::relu, dp::max_pool<2>, dp::tap<"pool1">, head512<"fc1", "pool1">,
              dp::conv<128, 3>, dp::relu, dp::max_pool<2>, dp::tap<"pool2">, head512<"fc2", "pool2">,
              dp::conv<128, 3>, dp::relu, dp::max_pool<2>, dp::tap<"pool3">, head512<"fc3", "pool3">,
              dp::conv<128, 2>, dp::relu, dp::tap<"conv4">,
              dp::multi_scale_fc<deep_feature_dim, "pool3", "conv4">, dp::relu, dp::dropout<0.5>, dp::tap<"fc4">>;

// DeepID3 net1 with ordinary padded 3x3 convolutions for its two locally
// connected top layers.
template <class Widths>
using d3net1_plain_net =
    dp::stack<dp::input<3, 55, 47>,
              dp::conv<Widths::stage1, 3, 1, 1>, dp::relu, dp::conv<Widths::stage1, 3, 1, 1>, dp::relu,
              dp::deepid3_pool, dp::tap<"pool1">, head512<"fc1", "pool1">,
              dp::conv<Widths::stage2, 3, 1, 1>, dp::relu, dp::conv<Widths::stage2, 3, 1, 1>, dp::relu,
              dp::deepid3_pool, dp::tap<"pool2">, head512<"fc2", "pool2">,
              dp::conv<Widths::stage3, 3, 1, 1>, dp::relu, dp::conv<Widths::stage3, 3, 1, 1>, dp::relu,
              dp::deepid3_pool, dp::tap<"pool3">, head512<"fc3", "pool3">,
              dp::conv<Widths::stage4, 3, 1, 1>, dp::relu, dp::conv<Widths::stage4, 3, 1, 1>, dp::relu,
              dp::deepid3_pool, dp::tap<"pool4">,
              dp::multi_scale_fc<deep_feature_dim, "pool3", "pool4">, dp::relu, dp::dropout<0.5>, dp::tap<"fc4">>;

// Training FLOPs per sample of a net with heads: the forward of every layer
// (heads included) and of the classifiers on all outputs, times 3 (forward,
// d(weights), d(input)), less the first layer's d(input), which nobody computes.
template <class Model>
double deep_training_flops(const Model& m) {
  return 3.0 * (double(dp::net_traits<typename Model::net>::flops) + Model::output_count * deep_classifier_flops) -
         double(m.layers().front().flops);
}

// Training FLOPs per sample: forward, d(weights) and d(input) each cost the
// forward's multiply-adds, for the nets and the classifier, except d(input)
// of the first layer, which nobody computes (25.6 MFLOP for DeepID1 39x31x3).
template <class Model>
double training_flops(const Model& m) {
  return 3.0 * (double(Model::flops) + classifier_flops) - double(m.layers().front().flops);
}

// One engine a case measures: `measure(calls)` returns the seconds taken.
struct engine {
  engine(std::string n, std::function<double(int)> m) : name(std::move(n)), measure(std::move(m)) {}
  std::string name;
  std::function<double(int)> measure;
  int calls = 1;
  std::vector<double> per_call;  // seconds, one per round
};

template <class F>
double time_calls(int calls, F&& f) {
  const auto start = clock_type::now();
  for (int i = 0; i < calls; ++i) f();
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Builds DeepID1 with ordinary convolutions in OpenCV dnn from deepid's
// weights (PyTorch layout): conv/relu/pool x3, conv4/relu, the DeepID layer as
// Concat(flatten(pool3), flatten(conv4)) -> InnerProduct -> ReLU.
template <class Model>
cv::dnn::Net opencv_plain_net(const Model& m) {
  cv::dnn::Net net;
  auto weights = [&](const std::string& name, std::vector<int> shape) {
    const std::vector<float> data = m.get_parameter(name);
    cv::Mat blob(int(shape.size()), shape.data(), CV_32F);
    std::copy(data.begin(), data.end(), blob.ptr<float>());
    return blob;
  };
  int prev = 0, cin = int(Model::input_shape.c);
  auto add = [&](const std::string& name, const std::string& type, cv::dnn::LayerParams p,
                 std::vector<int> inputs) {
    p.name = name;
    p.type = type;
    const int id = net.addLayer(name, type, p);
    for (std::size_t k = 0; k < inputs.size(); ++k) net.connect(inputs[k], 0, id, int(k));
    return id;
  };
  auto conv_relu = [&](int index, int cout, int kernel) {
    cv::dnn::LayerParams p;
    p.set("kernel_size", kernel);
    p.set("num_output", cout);
    p.set("bias_term", true);
    p.blobs = {weights(std::to_string(index) + ".weight", {cout, cin, kernel, kernel}),
               weights(std::to_string(index) + ".bias", {1, cout})};
    cin = cout;
    prev = add("conv" + std::to_string(index), "Convolution", p, {prev});
    prev = add("relu" + std::to_string(index), "ReLU", {}, {prev});
  };
  auto pool = [&](int index) {
    cv::dnn::LayerParams p;
    p.set("pool", "max");
    p.set("kernel_size", 2);
    p.set("stride", 2);
    prev = add("pool" + std::to_string(index), "Pooling", p, {prev});
  };
  conv_relu(1, 20, 4);
  pool(3);
  conv_relu(4, 40, 3);
  pool(6);
  conv_relu(7, 60, 3);
  pool(9);
  const int pool3 = prev;
  conv_relu(11, 80, 2);
  const int conv4 = prev;
  const int flat3 = add("flat_pool3", "Flatten", {}, {pool3});
  const int flat4 = add("flat_conv4", "Flatten", {}, {conv4});
  cv::dnn::LayerParams cat;
  cat.set("axis", 1);
  const int joined = add("concat", "Concat", cat, {flat3, flat4});
  const auto fc_shape = [&] {
    for (const auto& t : m.parameter_tensors())
      if (t.name == "14.weight") return t.shape;
    throw std::runtime_error("no parameter 14.weight");
  }();
  cv::dnn::LayerParams fc;
  fc.set("num_output", int(fc_shape[0]));
  fc.set("bias_term", true);
  fc.blobs = {weights("14.weight", {int(fc_shape[0]), int(fc_shape[1])}), weights("14.bias", {1, int(fc_shape[0])})};
  const int deepid_layer = add("deepid", "InnerProduct", fc, {joined});
  add("deepid_relu", "ReLU", {}, {deepid_layer});
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}

// The integers between '<' and the first '>' of a layer name:
// "conv<64,3,1,1> + relu" -> 64 3 1 1, "max_pool<2,2,0,floor>" -> 2 2 0.
std::vector<int> name_numbers(const std::string& name) {
  std::vector<int> numbers;
  const auto open = name.find('<'), close = name.find('>');
  if (open == std::string::npos || close == std::string::npos) return numbers;
  for (const auto& part : split(name.substr(open + 1, close - open - 1), ','))
    if (!part.empty() && std::isdigit(static_cast<unsigned char>(part.front()))) numbers.push_back(std::stoi(part));
  return numbers;
}
// The quoted tags of a name: multi_scale_fc<512,"pool3","conv4"> -> pool3 conv4.
std::vector<std::string> name_tags(const std::string& name) {
  std::vector<std::string> tags;
  for (std::size_t open = name.find('"'); open != std::string::npos; open = name.find('"', open)) {
    const auto close = name.find('"', open + 1);
    if (close == std::string::npos) break;
    tags.push_back(name.substr(open + 1, close - open - 1));
    open = close + 1;
  }
  return tags;
}

// Builds the main path of any deepid stack of ordinary layers in OpenCV dnn,
// from the model's layer table and its weights in PyTorch layout:
// Convolution (stride, pad), ReLU, Pooling (max; ceil_mode false, OpenCV's
// default is ceil), Concat along channels for an Inception module's
// branches, Flatten + Concat + InnerProduct for a multi-scale fully connected
// layer. Heads and dropout (inference) are left out. Returns nothing, with
// the reason in `why`, when the net has a layer OpenCV dnn lacks (locally
// shared or locally connected).
template <class Model>
std::optional<cv::dnn::Net> opencv_net_from_layers(const Model& m, std::string& why) {
  cv::dnn::Net net;
  std::map<std::string, std::vector<int>> tensor_shapes;
  for (const auto& t : m.parameter_tensors()) tensor_shapes[t.name] = std::vector<int>(t.shape.begin(), t.shape.end());
  auto weights = [&](const std::string& name, std::vector<int> shape) {
    const std::vector<float> data = m.get_parameter(name);
    cv::Mat blob(int(shape.size()), shape.data(), CV_32F);
    std::copy(data.begin(), data.end(), blob.ptr<float>());
    return blob;
  };
  auto add = [&](const std::string& name, const std::string& type, cv::dnn::LayerParams p, std::vector<int> inputs) {
    p.name = name;
    p.type = type;
    const int id = net.addLayer(name, type, p);
    for (std::size_t k = 0; k < inputs.size(); ++k) net.connect(inputs[k], 0, id, int(k));
    return id;
  };
  int cur = 0, module_input = 0;  // 0: the net's input
  std::size_t previous_branch = 0;
  std::vector<int> branch_outputs;
  std::map<std::string, int> taps;
  for (const auto& row : m.layers()) {
    if (!row.head.empty()) continue;
    const std::string& name = row.name;
    const std::string id = std::to_string(row.index);
    const bool relu_after = name.ends_with(" + relu");
    if (row.branch > 0 && row.branch != previous_branch) {  // an Inception branch starts from the module's input
      if (previous_branch == 0) {
        module_input = cur;
        branch_outputs.clear();
      } else {
        branch_outputs.push_back(cur);
      }
      cur = module_input;
    }
    previous_branch = row.branch;
    if (name.starts_with("conv<")) {
      const auto& shape = tensor_shapes.at(id + ".weight");  // [out][in][k][k]
      const auto numbers = name_numbers(name);
      cv::dnn::LayerParams p;
      p.set("kernel_size", shape[2]);
      p.set("num_output", shape[0]);
      p.set("stride", numbers.size() >= 3 ? numbers[2] : 1);
      p.set("pad", numbers.size() >= 4 ? numbers[3] : 0);
      p.set("bias_term", true);
      p.blobs = {weights(id + ".weight", shape), weights(id + ".bias", {1, shape[0]})};
      cur = add("conv" + id, "Convolution", p, {cur});
    } else if (name.starts_with("max_pool<")) {
      const auto numbers = name_numbers(name);
      cv::dnn::LayerParams p;
      p.set("pool", "max");
      p.set("kernel_size", numbers.at(0));
      p.set("stride", numbers.size() >= 2 ? numbers[1] : numbers[0]);
      p.set("pad", numbers.size() >= 3 ? numbers[2] : 0);
      p.set("ceil_mode", false);
      cur = add("pool" + id, "Pooling", p, {cur});
    } else if (name == "relu") {
      cur = add("relu" + id, "ReLU", {}, {cur});
    } else if (name.starts_with("tap<")) {
      taps[name_tags(name).at(0)] = cur;
    } else if (name.starts_with("concat")) {
      branch_outputs.push_back(cur);
      cv::dnn::LayerParams p;
      p.set("axis", 1);
      cur = add("concat" + id, "Concat", p, branch_outputs);
      branch_outputs.clear();
    } else if (name.starts_with("multi_scale_fc<") || name.starts_with("fully_connected<")) {
      const auto& shape = tensor_shapes.at(id + ".weight");  // [out][in]
      std::vector<int> inputs;
      for (const auto& tag : name_tags(name)) inputs.push_back(taps.at(tag));
      if (inputs.empty()) inputs.push_back(cur);
      std::vector<int> flat;
      for (std::size_t k = 0; k < inputs.size(); ++k)
        flat.push_back(add("flat" + id + "_" + std::to_string(k), "Flatten", {}, {inputs[k]}));
      int joined = flat.front();
      if (flat.size() > 1) {
        cv::dnn::LayerParams p;
        p.set("axis", 1);
        joined = add("join" + id, "Concat", p, flat);
      }
      cv::dnn::LayerParams fc;
      fc.set("num_output", shape[0]);
      fc.set("bias_term", true);
      fc.blobs = {weights(id + ".weight", shape), weights(id + ".bias", {1, shape[0]})};
      cur = add("fc" + id, "InnerProduct", fc, {joined});
    } else if (name == "relu (fused)" || name.starts_with("dropout")) {
      // the ReLU was added after its layer; dropout is the identity at inference
    } else {
      why = "no " + name.substr(0, name.find('<')) + " layer in OpenCV dnn";
      return std::nullopt;
    }
    if (relu_after) cur = add("relu" + id, "ReLU", {}, {cur});
  }
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}

cv::Mat opencv_forward(cv::dnn::Net& net, const float* x, std::size_t n, dp::shape3 s) {
  const int shape[] = {int(n), int(s.c), int(s.h), int(s.w)};
  // Wraps the caller's input without a copy (setInput copies into its blob).
  cv::Mat blob(4, shape, CV_32F, const_cast<float*>(x));
  net.setInput(blob);
  return net.forward();
}

// ---------------------------------------------------------------- results

struct case_result {
  std::string net, kind;
  std::size_t batch = 0;
  int threads = 0;
  double flops_per_sample = 0;
  std::map<std::string, double> samples_per_s;  // median per engine
  std::map<std::string, double> ratio;          // median of per-round ratios: deepid / peer
  double other_load = 0;
  bool heads = false;  // a deeper net: training supervises its four outputs
};

void print_row(const std::string& name, const std::vector<double>& per_call, std::size_t batch, double flops) {
  std::vector<double> rates;
  for (double t : per_call) rates.push_back(double(batch) / t);
  const double m = median(rates);
  std::printf("  %-15s %10.0f %9.1f    ", name.c_str(), m, m * flops * 1e-9);
  for (double r : rates) std::printf(" %.0f", r);
  std::printf("\n");
}

struct net_data {
  std::string key, label, sharing, folder;
  std::size_t h = 0, w = 0;
};

class bench {
 public:
  explicit bench(options o) : opt_(std::move(o)) {
    std::mt19937 gen(42);
    std::normal_distribution<float> normal(0.f, 1.f);
    input_.resize(128 * 3 * 39 * 31);
    for (auto& v : input_) v = normal(gen);
    std::uniform_int_distribution<std::int32_t> label(0, std::int32_t(classes) - 1);
    labels_.resize(128);
    for (auto& l : labels_) l = label(gen);
    input55_.resize(128 * 3 * 55 * 47);
    for (auto& v : input55_) v = normal(gen);
    char dir[] = "/tmp/deepid_side_by_side_XXXXXX";
    if (!mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
    folder_ = dir;
    if (opt_.torch) {
      if (access(opt_.python.c_str(), X_OK) != 0 || access(opt_.script.c_str(), R_OK) != 0) {
        std::printf("PyTorch peer skipped: %s or %s is missing\n", opt_.python.c_str(), opt_.script.c_str());
        opt_.torch = false;
      } else {
        const std::string blas = blas_folder();
        torch_ = std::make_unique<torch_peer>(opt_.python, opt_.script, blas);
        const std::string versions = torch_->ask("versions");
        std::printf("PyTorch peer: %s (%s)\n", versions.c_str(), opt_.python.c_str());
        if (versions.find("openblas") == std::string::npos)
          std::printf("WARNING: PyTorch is not on OpenBLAS; its fully connected layers run on a slow BLAS "
                      "(install libopenblas0-pthread, or pass --torch-blas DIR)\n");
      }
    }
  }
  ~bench() {
    torch_.reset();
    std::error_code ec;
    std::filesystem::remove_all(folder_, ec);
  }

  template <std::size_t H, std::size_t W, bool Paper>
  void run_net(const std::string& key) {
    using net = std::conditional_t<Paper, paper_net<H, W>, plain_net<H, W>>;
    using model_type = dp::model<net, float>;
    net_data d{key, std::string("DeepID1 ") + (Paper ? "paper (locally shared conv3, locally connected conv4)" : "plain (ordinary convolutions)") + " " + std::to_string(H) + "x" + std::to_string(W) + "x3", Paper ? "paper" : "plain", folder_ + "/" + key, H, W};
    std::filesystem::create_directories(d.folder);
    auto m = std::make_unique<model_type>(dp::init::seed{7});
    // Small non-zero biases, so a ReLU that never fires cannot hide a difference.
    for (const auto& t : m->parameter_tensors())
      if (t.name.ends_with(".bias")) {
        std::vector<float> b(t.size());
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = 0.01f * float(int(i % 7) - 3);
        m->set_parameter(t.name, b);
      }
    const std::size_t n_check = 128;
    const float* x = input_.data();
    const float* out = m->forward(x, n_check, dp::mode::inference);
    const std::vector<float> features(out, out + n_check * feature_dim);
    export_for_torch(*m, d, x, n_check, features);

    std::optional<cv::dnn::Net> cvnet;
    std::printf("\n#### %s: %.2f MFLOP forward, %.2f MFLOP per training step (per sample)\n", d.label.c_str(),
                double(model_type::flops) * 1e-6, training_flops(*m) * 1e-6);
    if (opt_.opencv && !Paper) {
      cvnet = opencv_plain_net(*m);
      cv::Mat out = opencv_forward(*cvnet, x, n_check, model_type::input_shape);
      double diff = 0, top = 0;
      for (std::size_t i = 0; i < n_check * feature_dim; ++i) {
        diff = std::max(diff, double(std::abs(out.ptr<float>()[i] - features[i])));
        top = std::max(top, double(std::abs(features[i])));
      }
      std::printf("same weights, same %zu inputs: max |deepid - OpenCV dnn| = %.3g (features up to %.3g)\n",
                  n_check, diff, top);
    } else if (opt_.opencv) {
      std::printf("OpenCV dnn: no locally shared or locally connected layer; not run on this net\n");
    }

    for (int threads : opt_.threads)
      for (const auto& c : opt_.cases) {
        const std::string kind = c.substr(0, 5);
        if (kind != "infer" && kind != "train" && kind != "joint")
          throw std::runtime_error("unknown case " + c + " (inferN, trainN, jointN)");
        const bool train = kind != "infer";
        const std::size_t batch = std::stoul(c.substr(5));
        if (batch == 0 || batch > 128) throw std::runtime_error("case " + c + ": batch must be 1..128");
        if (kind == "joint" && batch % 2) throw std::runtime_error("case " + c + ": a pair batch needs an even size");
        dp::set_num_threads(threads);
        cv::setNumThreads(threads);
        std::vector<engine> engines;
        case_result r{key, kind, batch, threads, train ? training_flops(*m) : double(model_type::flops), {}, {}, 0};
        std::unique_ptr<dp::softmax_classifier<float>> cls;
        std::vector<float> dfeatures;
        dp::sgd_state<float> velocity, cls_velocity;
        std::unique_ptr<dp::train::trainer<net>> pair_trainer;
        dp::train::identity_patches pairs_from;
        if (kind == "infer") {
          engines.push_back({"deepid", [&, batch](int calls) {
                               return time_calls(calls, [&] { m->forward(x, batch, dp::mode::inference); });
                             }});
          if (cvnet)
            engines.push_back({"opencv-dnn", [&, batch](int calls) {
                                 return time_calls(calls, [&] { opencv_forward(*cvnet, x, batch, model_type::input_shape); });
                               }});
        } else if (kind == "train") {
          cls = std::make_unique<dp::softmax_classifier<float>>(feature_dim, classes, 11);
          dfeatures.assign(batch * feature_dim, 0.f);
          velocity = dp::sgd_state<float>(m->parameters().size());
          cls_velocity = dp::sgd_state<float>(cls->parameters().size());
          engines.push_back({"deepid", [&, batch](int calls) {
                               return time_calls(calls, [&] {
                                 train_step(*m, *cls, x, batch, dfeatures, velocity, cls_velocity);
                               });
                             }});
        } else {
          pairs_from = pair_training_set(model_type::input_shape);
          dp::train::options o;
          o.batch_pairs = batch / 2;
          o.lambda = 0.05;
          o.epochs = 1 << 30;
          o.optimiser = {.lr = learning_rate, .momentum = momentum, .weight_decay = 0};
          o.schedule = dp::lr_schedule::constant(learning_rate);
          o.margin_window = 20000;
          o.progress = dp::progress_style::silent;
          pair_trainer = std::make_unique<dp::train::trainer<net>>(*m, classes, o);
          engines.push_back({"deepid", [&](int calls) {
                               // fit() runs `calls` steps, returns and later resumes where it stopped.
                               pair_trainer->stop_after(calls);
                               return time_calls(1, [&] { pair_trainer->fit(pairs_from); });
                             }});
        }
        std::vector<std::string> torch_variants;
        if (torch_) {
          const std::string reply = torch_->ask("case " + d.folder + " " + d.sharing + " " + std::to_string(H) + " " +
                                                std::to_string(W) + " " + std::to_string(batch) + " " +
                                                std::to_string(threads) + " " + kind);
          auto words = split(reply, ' ');
          for (std::size_t i = 1; i < words.size(); ++i)
            if (words[i].rfind("maxdiff=", 0) == 0) torch_diff_[key] = words[i].substr(8);
            else torch_variants.push_back(words[i]);
          for (const auto& v : torch_variants)
            engines.push_back({"torch-" + v, [this, v](int calls) {
                                 return std::stod(torch_->ask("time " + v + " " + std::to_string(calls)));
                               }});
        }
        run_case(engines);
        const cpu_sample end = sample_cpu(torch_ ? torch_->pid() : -1);
        r.other_load = other_load(case_start_, end);
        report(d, r, engines, steal_load(case_start_, end));
        if (train) check_finite(*m);
        results_.push_back(r);
      }
  }

  // A deeper net (DeepID2+, DeepID3): 55x47x3 input, 512-d outputs, three
  // heads. `key` names it for the PyTorch peer too (torch_bench.SPEC_NETS).
  template <class Net>
  void run_deep(const std::string& key, const std::string& label) {
    using model_type = dp::model<Net, float>;
    using traits = dp::net_traits<Net>;
    static_assert(model_type::input_shape == dp::shape3{3, 55, 47});
    static_assert(model_type::output_count == 4 && model_type::output_shape.size() == deep_feature_dim);
    constexpr std::size_t outputs = model_type::output_count;
    const auto started = clock_type::now();
    struct elapsed_note {  // how long the net took, printed when run_deep returns
      clock_type::time_point start;
      std::string key;
      ~elapsed_note() {
        std::printf("(%s: %.0f s)\n", key.c_str(), std::chrono::duration<double>(clock_type::now() - start).count());
      }
    } note{started, key};
    net_data d{key, label, "spec", folder_ + "/" + key, 55, 47};
    std::filesystem::create_directories(d.folder);
    auto m = std::make_unique<model_type>(dp::init::seed{7});
    // Small non-zero biases, so a ReLU that never fires cannot hide a difference.
    for (const auto& t : m->parameter_tensors())
      if (t.name.ends_with(".bias")) {
        std::vector<float> b(t.size());
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = 0.01f * float(int(i % 7) - 3);
        m->set_parameter(t.name, b);
      }
    const float* x = input55_.data();
    // Reference outputs of every head on the first samples (written for the
    // PyTorch peer) and the main path alone, which must agree with them.
    const std::size_t n_check = 16;
    std::array<std::vector<float>, outputs> reference;
    m->forward(x, n_check, dp::mode::inference, dp::head_pass::run);
    for (std::size_t k = 0; k < outputs; ++k)
      reference[k].assign(m->output(k), m->output(k) + n_check * model_type::output_shape_of(k).size());
    {
      const float* main = m->forward(x, n_check, dp::mode::inference, dp::head_pass::skip);
      double diff = 0;
      for (std::size_t i = 0; i < reference.back().size(); ++i)
        diff = std::max(diff, double(std::abs(main[i] - reference.back()[i])));
      if (diff != 0) std::printf("WARNING: deepid's main path alone differs from the pass with heads by %.3g\n", diff);
    }
    {
      auto write = [&](const std::string& name, const float* data, std::size_t count) {
        std::ofstream f(d.folder + "/" + name + ".bin", std::ios::binary);
        f.write(reinterpret_cast<const char*>(data), std::streamsize(count * sizeof(float)));
      };
      for (const auto& t : m->parameter_tensors()) {
        const auto v = m->get_parameter(t.name);
        write(t.name, v.data(), v.size());
      }
      write("input", x, 128 * model_type::input_shape.size());
      for (std::size_t k = 0; k < outputs; ++k)
        write("out_" + std::string(model_type::output_name(k)), reference[k].data(), reference[k].size());
    }

    std::printf("\n#### %s: %.1f MFLOP forward of the main path, %.1f MFLOP with the heads, %.1f MFLOP per training "
                "step with 4 x 10,000-way classifiers (per sample); %.2f M parameters (%.2f M on the main path)\n",
                d.label.c_str(), double(traits::feature_flops) * 1e-6, double(traits::flops) * 1e-6,
                deep_training_flops(*m) * 1e-6, double(traits::param_count) * 1e-6,
                double(traits::feature_param_count) * 1e-6);
    std::optional<cv::dnn::Net> cvnet;
    if (opt_.opencv) {
      std::string why;
      cvnet = opencv_net_from_layers(*m, why);
      if (cvnet) {
        cv::Mat out = opencv_forward(*cvnet, x, n_check, model_type::input_shape);
        double diff = 0, top = 0;
        const std::vector<float>& features = reference.back();
        if (std::size_t(out.total()) != features.size())
          throw std::runtime_error(key + ": OpenCV dnn's output has " + std::to_string(out.total()) +
                                   " values, deepid's " + std::to_string(features.size()));
        for (std::size_t i = 0; i < features.size(); ++i) {
          diff = std::max(diff, double(std::abs(out.ptr<float>()[i] - features[i])));
          top = std::max(top, double(std::abs(features[i])));
        }
        char text[96];
        std::snprintf(text, sizeof text, "%.3g (of %.3g)", diff, top);
        opencv_diff_[key] = text;
        std::printf("same weights, same %zu inputs: max |deepid - OpenCV dnn| = %.3g (features up to %.3g)\n",
                    n_check, diff, top);
      } else {
        std::printf("OpenCV dnn: %s; not run on this net\n", why.c_str());
      }
    }

    for (int threads : opt_.threads)
      for (const auto& c : opt_.cases) {
        const std::string kind = c.substr(0, 5);
        if (kind == "joint") {
          std::printf("\n(case %s: the joint step is for the DeepID1 nets; skipped on %s)\n", c.c_str(), key.c_str());
          continue;
        }
        if (kind != "infer" && kind != "train")
          throw std::runtime_error("unknown case " + c + " (inferN, trainN, jointN)");
        const bool train = kind == "train";
        const std::size_t batch = std::stoul(c.substr(5));
        if (batch == 0 || batch > 128) throw std::runtime_error("case " + c + ": batch must be 1..128");
        dp::set_num_threads(threads);
        cv::setNumThreads(threads);
        std::vector<engine> engines;
        case_result r{key, kind, batch, threads, train ? deep_training_flops(*m) : double(traits::feature_flops),
                      {}, {}, 0, true};
        std::vector<std::unique_ptr<dp::softmax_classifier<float>>> cls;
        std::array<std::vector<float>, outputs> douts;
        std::array<dp::sgd_state<float>, outputs> cls_velocity;
        dp::sgd_state<float> velocity;
        if (!train) {
          engines.push_back({"deepid", [&, batch](int calls) {
                               return time_calls(calls, [&] {
                                 m->forward(x, batch, dp::mode::inference, dp::head_pass::skip);
                               });
                             }});
          if (cvnet)
            engines.push_back({"opencv-dnn", [&, batch](int calls) {
                                 return time_calls(calls, [&] { opencv_forward(*cvnet, x, batch, model_type::input_shape); });
                               }});
        } else {
          for (std::size_t k = 0; k < outputs; ++k) {
            cls.push_back(std::make_unique<dp::softmax_classifier<float>>(deep_feature_dim, classes, 11 + k));
            douts[k].assign(batch * deep_feature_dim, 0.f);
            cls_velocity[k] = dp::sgd_state<float>(cls[k]->parameters().size());
          }
          velocity = dp::sgd_state<float>(m->parameters().size());
          engines.push_back({"deepid", [&, batch](int calls) {
                               return time_calls(calls, [&] { deep_train_step(*m, cls, x, batch, douts, velocity, cls_velocity); });
                             }});
        }
        if (torch_) {
          const std::string reply = torch_->ask("spec " + d.folder + " " + key + " " + std::to_string(batch) + " " +
                                                std::to_string(threads) + " " + kind);
          std::string others;
          for (const auto& word : split(reply, ' ')) {
            if (word == "ok") continue;
            if (word.rfind("maxdiff=", 0) == 0) torch_diff_[key] = word.substr(8);
            else if (word.find('=') != std::string::npos) others += " " + word;
            else
              engines.push_back({"torch-" + word, [this, word](int calls) {
                                   return std::stod(torch_->ask("time " + word + " " + std::to_string(calls)));
                                 }});
          }
          torch_output_diffs_[key] = others;
        }
        run_case(engines);
        const cpu_sample end = sample_cpu(torch_ ? torch_->pid() : -1);
        r.other_load = other_load(case_start_, end);
        report(d, r, engines, steal_load(case_start_, end));
        if (train) check_finite(*m);
        results_.push_back(r);
      }
    if (opt_.layers) {
      m.reset();  // the profiler holds its own buffers
      for (int threads : opt_.threads) {
        dp::set_num_threads(threads);
        side_by_side_layers::layer_profiler<Net>(128).run(opt_.rounds, d.label);
      }
    }
  }

  pid_t torch_pid() const { return torch_ ? torch_->pid() : -1; }

  // The folder with OpenBLAS's libblas.so.3 (and libopenblas.so.0) for the
  // PyTorch peer and the GEMM reference; empty when there is none.
  std::string blas_folder() const {
    if (opt_.blas_dir != "auto") return opt_.blas_dir;
    std::vector<std::string> dirs{"/usr/lib/x86_64-linux-gnu/openblas-pthread", "/usr/lib/x86_64-linux-gnu/openblas-openmp",
                                  "/usr/lib/aarch64-linux-gnu/openblas-pthread"};
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec)  // <build folder>/benchmarks/side_by_side -> <build folder>/openblas/root/usr/lib/...
      dirs.push_back((exe.parent_path().parent_path() / "openblas/root/usr/lib/x86_64-linux-gnu/openblas-pthread").string());
    for (const auto& dir : dirs)
      if (access((dir + "/libblas.so.3").c_str(), R_OK) == 0) return dir;
    return {};
  }

  // The GEMM rate and deepid's padded 3x3 convolutions (side_by_side_gemm.hpp).
  void run_vgg3x3() {
    side_by_side_gemm::vgg_bench vb(opt_.rounds, opt_.target_s, blas_folder());
    const cpu_sample start = sample_cpu(torch_pid());
    vgg_ = vb.run({1, 2});
    vgg_load_ = other_load(start, sample_cpu(torch_pid()));
    std::printf("  other processes' CPU load during vgg3x3: %.2f cores\n", vgg_load_);
  }

  void finish() {
    if (!torch_diff_.empty()) {
      std::printf("\nPyTorch vs deepid features, same weights and inputs (max |diff|):");
      for (const auto& [k, v] : torch_diff_) std::printf(" %s %s;", k.c_str(), v.c_str());
      std::printf("\n");
    }
    if (!torch_output_diffs_.empty()) {
      std::printf("PyTorch vs deepid, every output of the deeper nets (heads included; main-path = PyTorch's "
                  "main path alone vs its pass with heads):\n");
      for (const auto& [k, v] : torch_output_diffs_) std::printf("  %s:%s\n", k.c_str(), v.c_str());
    }
    if (!opencv_diff_.empty()) {
      std::printf("OpenCV dnn vs deepid features (max |diff|):");
      for (const auto& [k, v] : opencv_diff_) std::printf(" %s %s;", k.c_str(), v.c_str());
      std::printf("\n");
    }
    summary();
  }

 private:
  template <class Model>
  void export_for_torch(const Model& m, const net_data& d, const float* x, std::size_t n,
                        const std::vector<float>& features) {
    auto write = [&](const std::string& name, const float* data, std::size_t count) {
      std::ofstream f(d.folder + "/" + name + ".bin", std::ios::binary);
      f.write(reinterpret_cast<const char*>(data), std::streamsize(count * sizeof(float)));
    };
    for (const auto& t : m.parameter_tensors()) {
      const auto v = m.get_parameter(t.name);
      write(t.name, v.data(), v.size());
    }
    write("input", x, n * Model::input_shape.size());
    write("features", features.data(), features.size());
  }

  // 640 identities x 10 random patches (and flipped counterparts) for the
  // joint step; labels 0..639 of the 10,000-way classifier.
  static dp::train::identity_patches pair_training_set(dp::shape3 s) {
    constexpr std::size_t ids = 640, per_id = 10, n = ids * per_id;
    dp::train::identity_patches d;
    d.original = dp::batch4<float>(std::array<std::size_t, 4>{n, s.c, s.h, s.w});
    d.flipped = dp::batch4<float>(std::array<std::size_t, 4>{n, s.c, s.h, s.w});
    std::mt19937 gen(5);
    std::normal_distribution<float> normal(0.f, 1.f);
    for (std::size_t i = 0; i < d.original.size(); ++i) d.original.data()[i] = normal(gen);
    for (std::size_t i = 0; i < n * s.c * s.h; ++i)  // mirror each row
      for (std::size_t col = 0; col < s.w; ++col)
        d.flipped.data()[i * s.w + col] = d.original.data()[i * s.w + (s.w - 1 - col)];
    for (std::size_t i = 0; i < n; ++i) d.labels.push_back(int(i / per_id));
    d.identities = classes;
    return d;
  }

  // SGD with momentum as deepid's trainer runs it (no weight decay, as the
  // peer): v = momentum v - lr g; p += v. PyTorch's form (v = momentum v + g;
  // p -= lr v) is the same step for a constant learning rate.
  static void sgd(std::span<float> params, std::span<const float> grads, dp::sgd_state<float>& velocity) {
    velocity.step({.lr = learning_rate, .momentum = momentum, .weight_decay = 0}, learning_rate, params, grads);
  }

  // One training step: forward, 10,000-way softmax cross-entropy, backward,
  // SGD with momentum on the net and the classifier.
  template <class Model>
  void train_step(Model& m, dp::softmax_classifier<float>& cls, const float* x, std::size_t n,
                  std::vector<float>& dfeatures, dp::sgd_state<float>& velocity, dp::sgd_state<float>& cls_velocity) {
    const float* features = m.forward(x, n, dp::mode::training);
    last_loss_ = cls.train_step(features, std::span<const std::int32_t>(labels_.data(), n), dfeatures.data());
    m.backward(dfeatures.data(), nullptr);
    sgd(m.parameters(), m.gradients(), velocity);
    sgd(cls.parameters(), cls.gradients(), cls_velocity);
  }

  // The training step of a net with heads: forward in training mode with
  // the heads, a 10,000-way softmax classifier on each output (the loss is
  // the sum of their cross-entropies), backward through every output, SGD
  // with momentum on the net and the classifiers.
  template <class Model, std::size_t N>
  void deep_train_step(Model& m, std::vector<std::unique_ptr<dp::softmax_classifier<float>>>& cls, const float* x,
                       std::size_t n, std::array<std::vector<float>, N>& douts, dp::sgd_state<float>& velocity,
                       std::array<dp::sgd_state<float>, N>& cls_velocity) {
    m.forward(x, n, dp::mode::training, dp::head_pass::run);
    const std::span<const std::int32_t> labels(labels_.data(), n);
    std::array<const float*, N> d{};
    last_loss_ = 0;
    for (std::size_t k = 0; k < N; ++k) {
      last_loss_ += cls[k]->train_step(m.output(k), labels, douts[k].data());
      d[k] = douts[k].data();
    }
    m.backward_outputs(d, nullptr);
    sgd(m.parameters(), m.gradients(), velocity);
    for (std::size_t k = 0; k < N; ++k) sgd(cls[k]->parameters(), cls[k]->gradients(), cls_velocity[k]);
  }

  template <class Model>
  void check_finite(const Model&) {
    if (!std::isfinite(last_loss_)) std::printf("  WARNING: deepid training loss is %g\n", last_loss_);
  }

  // Calibrates each engine to about target_s per measurement, then
  // interleaves them for the rounds.
  void run_case(std::vector<engine>& engines) {
    for (auto& e : engines) {
      e.measure(1);  // warm-up: allocations, packing, first-call costs
      double t = e.measure(1);
      int calls = 1;
      while (t < 0.02 && calls < (1 << 20)) {
        calls *= 4;
        t = e.measure(calls);
      }
      e.calls = std::max(1, int(std::lround(opt_.target_s / (t / calls))));
    }
    case_start_ = sample_cpu(torch_ ? torch_->pid() : -1);
    for (int round = 0; round < opt_.rounds; ++round)
      for (auto& e : engines) e.per_call.push_back(e.measure(e.calls) / e.calls);
  }

  void report(const net_data& d, case_result& r, const std::vector<engine>& engines, double steal) {
    std::printf("\n== %s | %s | batch %zu | %d thread%s ==\n", d.label.c_str(),
                r.kind == "train" && r.heads
                    ? "training step (fwd with the 3 heads, 4 x 10,000-way softmax CE, bwd, SGD momentum 0.9)"
                : r.kind == "train" ? "training step (fwd, 10,000-way softmax CE, bwd, SGD momentum 0.9)"
                : r.kind == "joint" ? "joint training step (pairs, softmax CE + 0.05 x L2 contrastive, bwd, SGD)"
                : r.heads           ? "inference (feature extraction: main path, no heads)"
                                    : "inference",
                r.batch, r.threads, r.threads > 1 ? "s" : "");
    std::printf("  %-15s %10s %9s     per round (samples/s)\n", "engine", "samples/s", "GFLOP/s");
    for (const auto& e : engines) {
      print_row(e.name, e.per_call, r.batch, r.flops_per_sample);
      std::vector<double> rates;
      for (double t : e.per_call) rates.push_back(double(r.batch) / t);
      r.samples_per_s[e.name] = median(rates);
    }
    const engine& mine = engines.front();
    auto ratio_line = [&](const std::string& peer, const std::vector<double>& peer_times) {
      std::vector<double> ratios;
      std::printf("  deepid / %-11s per round:", peer.c_str());
      for (std::size_t i = 0; i < peer_times.size(); ++i) {
        ratios.push_back(peer_times[i] / mine.per_call[i]);
        std::printf(" %.2f", ratios.back());
      }
      r.ratio[peer] = median(ratios);
      std::printf("  median %.2fx\n", r.ratio[peer]);
    };
    std::vector<double> torch_best;
    for (const auto& e : engines) {
      if (e.name == "opencv-dnn") ratio_line(e.name, e.per_call);
      if (e.name.rfind("torch-", 0) == 0) {
        if (torch_best.empty()) torch_best = e.per_call;
        for (std::size_t i = 0; i < e.per_call.size(); ++i) torch_best[i] = std::min(torch_best[i], e.per_call[i]);
      }
    }
    if (!torch_best.empty()) {
      ratio_line("torch-best", torch_best);
      std::vector<double> rates;
      for (double t : torch_best) rates.push_back(double(r.batch) / t);
      r.samples_per_s["torch-best"] = median(rates);
    }
    std::printf("  other processes' CPU load during the case: %.2f cores (steal %.2f)\n", r.other_load, steal);
  }

  void summary() {
    std::ostringstream md;
    md << "| net | work | batch | threads | deepid samples/s | deepid GFLOP/s | OpenCV dnn | PyTorch best | "
          "deepid / OpenCV | deepid / PyTorch | other load |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : results_) {
      auto get = [&](const std::map<std::string, double>& m, const std::string& k, const char* fmt) {
        auto it = m.find(k);
        if (it == m.end()) return std::string("-");
        char text[64];
        std::snprintf(text, sizeof text, fmt, it->second);
        return std::string(text);
      };
      char gflops[32];
      std::snprintf(gflops, sizeof gflops, "%.1f", r.samples_per_s.at("deepid") * r.flops_per_sample * 1e-9);
      char load[32];
      std::snprintf(load, sizeof load, "%.2f", r.other_load);
      const char* work = r.kind == "train" ? (r.heads ? "training step (4 outputs)" : "training step")
                         : r.kind == "joint" ? "joint step (pairs)"
                         : r.heads           ? "inference (features)"
                                             : "inference";
      md << "| " << r.net << " | " << work << " | " << r.batch << " | "
         << r.threads << " | " << get(r.samples_per_s, "deepid", "%.0f") << " | " << gflops << " | "
         << get(r.samples_per_s, "opencv-dnn", "%.0f") << " | " << get(r.samples_per_s, "torch-best", "%.0f")
         << " | " << get(r.ratio, "opencv-dnn", "%.2fx") << " | " << get(r.ratio, "torch-best", "%.2fx") << " | "
         << load << " |\n";
    }
    std::printf("\n## Summary (medians of %d interleaved rounds; ratios are medians of per-round ratios)\n\n%s",
                opt_.rounds, md.str().c_str());
    std::printf("\nTargets (2 threads): inference >= 1.5x OpenCV dnn on plain39 at batch 1 and 128; training step "
                "(and the joint step) >= 2x PyTorch for plain39 and paper39.\n");
    for (const auto& r : results_) {
      if (r.threads != 2) continue;
      if (r.kind == "infer" && r.net == "plain39" && r.ratio.count("opencv-dnn"))
        std::printf("  inference plain39 batch %zu: %.2fx OpenCV dnn -> %s\n", r.batch, r.ratio.at("opencv-dnn"),
                    r.ratio.at("opencv-dnn") >= 1.5 ? "met" : "NOT met");
      if (r.kind != "infer" && (r.net == "plain39" || r.net == "paper39") && r.ratio.count("torch-best"))
        std::printf("  %s %s batch %zu: %.2fx PyTorch -> %s\n", r.kind == "joint" ? "joint step" : "training",
                    r.net.c_str(), r.batch,
                    r.ratio.at("torch-best"), r.ratio.at("torch-best") >= 2.0 ? "met" : "NOT met");
    }
    bool deep = false;
    for (const auto& r : results_) deep = deep || r.heads;
    if (deep) {
      std::printf("\nTargets on the deeper nets (2 threads): inference >= 1.5x OpenCV dnn on the nets OpenCV dnn runs; "
                  "training step (all four outputs supervised) >= 2x PyTorch.\n");
      for (const auto& r : results_) {
        if (r.threads != 2 || !r.heads) continue;
        if (r.kind == "infer" && r.ratio.count("opencv-dnn"))
          std::printf("  inference %s batch %zu: %.2fx OpenCV dnn -> %s\n", r.net.c_str(), r.batch,
                      r.ratio.at("opencv-dnn"), r.ratio.at("opencv-dnn") >= 1.5 ? "met" : "NOT met");
        if (r.kind == "train" && r.ratio.count("torch-best"))
          std::printf("  training %s batch %zu: %.2fx PyTorch -> %s\n", r.net.c_str(), r.batch,
                      r.ratio.at("torch-best"), r.ratio.at("torch-best") >= 2.0 ? "met" : "NOT met");
      }
    }
    if (vgg_) md << vgg_summary();
    if (!opt_.markdown.empty()) std::ofstream(opt_.markdown) << md.str();
  }

  // The vgg3x3 table and its target (VGG 3x3 convolutions >= 60% of the GEMM
  // rate: the forward of every padded 3x3 layer of net1 and their sum).
  std::string vgg_summary() {
    std::ostringstream md;
    const auto& items = vgg_->items;
    md << "\n### GEMM rate and deepid's padded 3x3 convolutions (DeepID3 net1 55x47x3, batch 128)\n\n"
          "| what | shape / layer | threads | GFLOP/s | % of Eigen GEMM (best shape, same threads) | % of the best GEMM "
          "(Eigen or OpenBLAS) |\n|---|---|---|---|---|---|\n";
    char text[256];
    auto percent = [](double rate, double ref) {
      return ref > 0 ? std::to_string(int(std::lround(100 * rate / ref))) + "%" : std::string("-");
    };
    for (const auto& i : items) {
      const bool conv = i.group.rfind("conv", 0) == 0 || i.group.rfind("wino", 0) == 0;
      std::snprintf(text, sizeof text, "| %s | %s | %d | %.1f | %s | %s |\n", i.group.c_str(), i.what.c_str(),
                    i.threads, i.gflops(), conv ? percent(i.gflops(), vgg_->eigen_best(i.threads)).c_str() : "-",
                    conv ? percent(i.gflops(), vgg_->gemm_best(i.threads)).c_str() : "-");
      md << text;
    }
    std::snprintf(text, sizeof text, "\nother processes' CPU load during these: %.2f cores\n", vgg_load_);
    md << text;
    std::printf("\n%s", md.str().c_str());
    std::printf("\nTarget: deepid's padded 3x3 convolutions of DeepID3 net1 (forward, batch 128, 2 threads) >= 60%% of "
                "the GEMM rate measured here (Eigen, best shape, same thread count; 1 thread for information), each "
                "layer on the path the model takes (Winograd where it applies, effective GFLOP/s).\n");
    for (int t : {2, 1}) {
      const double ref = vgg_->eigen_best(t);
      double flops = 0, seconds = 0, flops6 = 0, seconds6 = 0;
      std::size_t k = 0;
      for (const auto& direct : items) {
        if (direct.group != "conv-fwd" || direct.threads != t) continue;
        const auto* model_path = &direct;
        for (const auto& w : items)
          if (w.group == "wino-fwd" && w.threads == t && w.what == direct.what) model_path = &w;
        const auto& i = *model_path;
        const double sec = side_by_side_gemm::median_of(i.per_call);
        flops += i.flops;
        seconds += sec;
        if (k < 6) {  // net1's own six ordinary 3x3 layers (the top two are locally connected in net1)
          flops6 += i.flops;
          seconds6 += sec;
        }
        std::printf("  %d thread%s, %-28s %-8s %6.1f GFLOP/s = %3.0f%% of %.1f -> %s\n", t, t > 1 ? "s" : "",
                    i.what.c_str(), i.group.c_str(), i.gflops(), 100 * i.gflops() / ref, ref,
                    i.gflops() >= 0.6 * ref ? "met" : "NOT met");
        ++k;
      }
      if (seconds6 > 0)
        std::printf("  %d thread%s, net1's six conv layers together: %.1f GFLOP/s = %.0f%% -> %s\n", t, t > 1 ? "s" : "",
                    flops6 * 1e-9 / seconds6, 100 * flops6 * 1e-9 / seconds6 / ref,
                    flops6 * 1e-9 / seconds6 >= 0.6 * ref ? "met" : "NOT met");
      if (seconds > 0)
        std::printf("  %d thread%s, with d3net1-plain's two top layers: %.1f GFLOP/s = %.0f%% -> %s\n", t, t > 1 ? "s" : "",
                    flops * 1e-9 / seconds, 100 * flops * 1e-9 / seconds / ref,
                    flops * 1e-9 / seconds >= 0.6 * ref ? "met" : "NOT met");
      if (seconds6 > 0 && vgg_->gemm_best(t) > ref)
        std::printf("  (%d thread%s: the best GEMM measured, OpenBLAS, is %.1f GFLOP/s; net1's six layers reach %.0f%% of it)\n",
                    t, t > 1 ? "s" : "", vgg_->gemm_best(t), 100 * flops6 * 1e-9 / seconds6 / vgg_->gemm_best(t));
    }
    return md.str();
  }

  options opt_;
  std::vector<float> input_, input55_;
  std::vector<std::int32_t> labels_;
  std::string folder_;
  std::unique_ptr<torch_peer> torch_;
  std::map<std::string, std::string> torch_diff_;
  std::vector<case_result> results_;
  cpu_sample case_start_;
  double last_loss_ = 0;
  std::optional<side_by_side_gemm::vgg_report> vgg_;
  double vgg_load_ = 0;
  std::map<std::string, std::string> opencv_diff_, torch_output_diffs_;
};

}  // namespace

int main(int argc, char** argv) try {
  signal(SIGPIPE, SIG_IGN);
  const options opt = parse(argc, argv);
  std::printf("deepid side-by-side: SIMD arch %s (%zu floats per vector), OpenMP %s, Eigen %d.%d.%d, OpenCV %s\n",
              xsimd::default_arch::name(), xsimd::batch<float>::size, DEEPID_OPENMP ? "on" : "off",
              EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, CV_VERSION);
  std::printf("threads:");
  for (int t : opt.threads) std::printf(" %d", t);
  std::printf("; %d interleaved rounds of about %.0f ms per engine\n", opt.rounds, opt.target_s * 1e3);
  {
    std::ifstream f("/proc/loadavg");
    std::string load;
    std::getline(f, load);
    std::printf("/proc/loadavg at start: %s\n", load.c_str());
  }
  bench b(opt);
  const cpu_sample start = sample_cpu(b.torch_pid());
  for (const auto& n : opt.nets) {
    if (n == "plain39") b.run_net<39, 31, false>(n);
    else if (n == "paper39") b.run_net<39, 31, true>(n);
    else if (n == "plain31") b.run_net<31, 31, false>(n);
    else if (n == "paper31") b.run_net<31, 31, true>(n);
    else if (n == "d2plus")
      b.run_deep<dp::deepid2plus<patch55>>(n, "DeepID2+ paper (conv3 locally shared 2x2, conv4 locally connected) 55x47x3");
    else if (n == "d2plus-plain")
      b.run_deep<d2plus_plain_net>(n, "DeepID2+ plain (ordinary convolutions) 55x47x3");
    else if (n == "d3net1")
      b.run_deep<dp::deepid3_net1<patch55>>(n, "DeepID3 net1 (VGG, top two layers locally connected) 55x47x3");
    else if (n == "d3net1-plain")
      b.run_deep<d3net1_plain_net<dp::deepid3_paper_widths>>(n, "DeepID3 net1 plain (ordinary 3x3 convolutions) 55x47x3");
    else if (n == "d3net2")
      b.run_deep<dp::deepid3_net2<patch55>>(n, "DeepID3 net2 (Inception) 55x47x3");
    else if (n == "d3net1-reduced")
      b.run_deep<dp::deepid3_net1<patch55, dp::deepid3_reduced_widths>>(n, "DeepID3 net1 reduced widths 55x47x3");
    else if (n == "d3net1-reduced-plain")
      b.run_deep<d3net1_plain_net<dp::deepid3_reduced_widths>>(n, "DeepID3 net1 reduced widths, plain 55x47x3");
    else if (n == "d3net2-reduced")
      b.run_deep<dp::deepid3_net2<patch55, dp::deepid3_reduced_widths>>(n, "DeepID3 net2 reduced widths 55x47x3");
    else if (n == "vgg3x3") b.run_vgg3x3();
    else
      throw std::runtime_error("unknown net " + n +
                               " (plain39, paper39, plain31, paper31, d2plus, d2plus-plain, d3net1, d3net1-plain, "
                               "d3net2, d3net1-reduced, d3net1-reduced-plain, d3net2-reduced, vgg3x3)");
  }
  b.finish();
  const cpu_sample end = sample_cpu(b.torch_pid());
  std::printf("\nother processes' CPU load over the whole run: %.2f cores\n", other_load(start, end));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "side_by_side: %s\n", e.what());
  return 1;
}
