// What verifying a weights file costs: the 93,237,338-parameter model_1_ptm file (random values
// in the official layout, uncompressed npz as released) loaded with every member's CRC-32 checked
// (what every loader does) and with the sizes checked alone, alternately, from the page cache.
//
//   weights_bench [--reps R] [--path FILE] [--record FILE]
//
// Reports the median load time of each, the ratio, and zlib's crc32 alone over the same bytes.
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "exafold/io/npz.h"
#include "exafold/io/weights.h"
#include "exafold/model/config.h"
#include "exafold/model/params.h"
#include "record.h"

namespace {

using namespace exafold;

double seconds(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void write_random_params(const model::ModelConfig& config, const std::string& path) {
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  std::vector<std::pair<std::string, Tensor>> arrays;
  for (const model::ParamSpec& s : model::param_spec(config)) {
    Tensor t = Tensor::empty(s.shape, DType::float32);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = 0.05f * g(rng);
    arrays.emplace_back(s.name, t);
  }
  save_npz(path, arrays);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  std::string path, record;
  std::string command = argv[0];
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    command += " " + a;
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      command += std::string(" ") + argv[i + 1];
      return argv[++i];
    };
    if (a == "--reps")
      reps = std::atoi(value().c_str());
    else if (a == "--path")
      path = value();
    else if (a == "--record")
      record = value();
    else {
      std::fprintf(stderr, "usage: weights_bench [--reps R] [--path FILE] [--record FILE]\n");
      return 2;
    }
  }
  const model::ModelConfig config = model::preset("model_1_ptm");
  const bool own_file = path.empty();
  if (own_file)
    path = (std::filesystem::temp_directory_path() / "exafold_weights_bench.npz").string();
  if (!std::filesystem::exists(path)) write_random_params(config, path);
  const uint64_t bytes = std::filesystem::file_size(path);

  int64_t parameters = 0;
  auto verified = [&] {
    parameters = io::load_weights(path, config, DType::float32).num_parameters();
  };
  auto sizes_only = [&] {
    io::WeightsFile f(path);
    f.check_layout(config);
    parameters = model::Params::from_arrays(f.read_all(DType::float32, NpzCheck::sizes), config,
                                            DType::float32)
                     .num_parameters();
  };
  const std::string load_before = loadavg();
  verified();  // warms the page cache: both variants then read from memory
  std::vector<double> with_crc, without;
  for (int r = 0; r < reps; ++r) {  // alternating, so drift in the machine's load hits both
    with_crc.push_back(seconds(verified));
    without.push_back(seconds(sizes_only));
  }
  std::string buffer(bytes, '\0');
  for (size_t i = 0; i < buffer.size(); i += 4096) buffer[i] = char(i >> 12);
  std::vector<double> crc_alone;
  uLong sink = 0;
  for (int r = 0; r < reps; ++r)
    crc_alone.push_back(seconds(
        [&] { sink ^= crc32_z(0, reinterpret_cast<const Bytef*>(buffer.data()), buffer.size()); }));

  const double a = median(with_crc), b = median(without), c = median(crc_alone);
  const double gb = double(bytes) / 1e9;
  char table[1024];
  std::snprintf(table, sizeof table,
                "load                         s      GB/s\n"
                "CRC-32 and sizes checked  %6.3f  %8.2f\n"
                "sizes checked only        %6.3f  %8.2f\n"
                "zlib crc32 alone          %6.3f  %8.2f\n"
                "ratio (checked / sizes only): %.2fx\n",
                a, gb / a, b, gb / b, c, gb / c, a / b);
  std::printf("%s", table);
  std::printf("%lld parameters, %.1f MB file, median of %d alternating runs (crc %lx)\n",
              (long long)parameters, double(bytes) / 1e6, reps, (unsigned long)(sink & 0xf));
  if (!record.empty()) {
    char notes[1536];
    std::snprintf(notes, sizeof notes,
                  "model_1_ptm in the official layout (%lld parameters, random float32 values, "
                  "uncompressed npz of %.1f MB written by exafold's save_npz), loaded as float32 "
                  "parameters from the page cache (one load before the timing), %d alternating "
                  "runs each, medians. \"Sizes checked only\" is the same reader with "
                  "NpzCheck::sizes (archive structure, bounds and sizes, no CRC), which no loader "
                  "uses; \"zlib crc32 alone\" is crc32_z over an in-memory buffer of the file's "
                  "size. zlib %s. /proc/loadavg before: %s, after: %s (the machine is shared).",
                  (long long)parameters, double(bytes) / 1e6, reps, zlibVersion(),
                  load_before.c_str(), loadavg().c_str());
    exafold::bench::append_results(record, "Weights loading: what the CRC-32 check costs", command,
                                   table, notes);
  }
  if (own_file) std::filesystem::remove(path);
  return 0;
}
