#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "exafold/core/error.h"
#include "exafold/io/hdf5_shard.h"

namespace exafold::io {
namespace {

namespace fs = std::filesystem;

struct Owned {  // backing storage for a ShardStructure
  std::vector<uint8_t> aatype, mask;
  std::vector<int32_t> residue_index;
  std::vector<float> positions, plddt, pae, sum_probs;
  std::vector<std::string> templates;
  ShardStructure view;
};

Owned make_structure(const std::string& id, size_t n, bool with_pae, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> coord(-50, 50), conf(0, 100), err(0, 31.75);
  Owned o;
  std::string seq;
  for (size_t i = 0; i < n; ++i) {
    o.aatype.push_back(uint8_t(rng() % 21));
    seq += "ARNDCQEGHILKMFPSTWYVX"[o.aatype.back()];
    o.residue_index.push_back(int32_t(i + 1));
    o.plddt.push_back(conf(rng));
    for (int a = 0; a < kAtom37; ++a) o.mask.push_back(uint8_t(rng() % 2));
  }
  for (size_t i = 0; i < n * kAtom37 * 3; ++i) o.positions.push_back(coord(rng));
  if (with_pae)
    for (size_t i = 0; i < n * n; ++i) o.pae.push_back(err(rng));
  for (uint64_t t = 0; t < seed % 3; ++t) {  // 0, 1 or 2 templates
    o.templates.push_back("1ab" + std::to_string(t) + "_" + char('A' + t));
    o.sum_probs.push_back(conf(rng));
  }
  o.view = {id,
            seq,
            o.aatype,
            o.residue_index,
            o.positions,
            o.mask,
            o.plddt,
            with_pae ? 0.8125f : std::nanf(""),
            o.pae,
            with_pae ? "model_1_ptm" : "model_1",
            seed,
            1.5 * double(n),
            1e12 * double(n),
            o.templates,
            o.sum_probs};
  return o;
}

class ShardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("exafold_shard_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const char* name = "shard-000.h5") const { return (dir_ / name).string(); }
  fs::path dir_;
};

void round_trip(const std::string& path, PaeStorage storage) {
  std::vector<Owned> in;
  in.push_back(make_structure("P1", 17, true, 1));
  in.push_back(make_structure("P2", 5, false, 2));
  in.push_back(make_structure("P3", 130, true, 3));
  {
    ShardWriter w(path, {.pae = storage, .chunk_residues = 64});
    for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(w.append(in[i].view), int64_t(i));
    EXPECT_TRUE(fs::exists(path + ".tmp"));
    EXPECT_FALSE(fs::exists(path));
    w.finish();
  }
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const Shard s = read_shard(path);
  EXPECT_EQ(s.layout_version, kShardLayoutVersion);
  EXPECT_EQ(s.pae_storage, storage);
  EXPECT_EQ(s.created.size(), 20u);  // 2026-01-01T00:00:00Z
  ASSERT_EQ(s.size(), 3);
  EXPECT_EQ(s.index().at("P3"), 2);
  EXPECT_EQ(s.residue_offsets, (std::vector<int64_t>{0, 17, 22, 152}));
  for (size_t i = 0; i < in.size(); ++i) {
    const auto& v = in[i].view;
    const auto r0 = size_t(s.residue_offsets[i]);
    EXPECT_EQ(s.ids[i], v.id);
    EXPECT_EQ(s.sequences[i], v.sequence);
    EXPECT_EQ(s.models[i], v.model);
    EXPECT_EQ(s.seeds[i], v.seed);
    EXPECT_EQ(s.runtime_seconds[i], v.runtime_seconds);
    EXPECT_EQ(s.flops[i], v.flops);
    const auto t0 = size_t(s.template_offsets[i]), t1 = size_t(s.template_offsets[i + 1]);
    EXPECT_EQ(
        std::vector<std::string>(s.template_names.begin() + t0, s.template_names.begin() + t1),
        in[i].templates);
    EXPECT_EQ(
        std::vector<float>(s.template_sum_probs.begin() + t0, s.template_sum_probs.begin() + t1),
        in[i].sum_probs);
    EXPECT_EQ(std::isnan(s.ptm[i]), std::isnan(v.ptm));
    if (!std::isnan(v.ptm)) EXPECT_EQ(s.ptm[i], v.ptm);
    double mean = 0;
    for (size_t k = 0; k < v.plddt.size(); ++k) {
      EXPECT_EQ(s.plddt[r0 + k], v.plddt[k]);
      EXPECT_EQ(s.aatype[r0 + k], v.aatype[k]);
      EXPECT_EQ(s.residue_index[r0 + k], v.residue_index[k]);
      mean += v.plddt[k];
    }
    // float64 reference mean, rounded once to float32 as stored.
    EXPECT_EQ(s.mean_plddt[i], float(mean / double(v.plddt.size())));
    for (size_t k = 0; k < v.atom_positions.size(); ++k)
      ASSERT_EQ(s.atom_positions[r0 * 111 + k], v.atom_positions[k]);
    for (size_t k = 0; k < v.atom_mask.size(); ++k)
      ASSERT_EQ(s.atom_mask[r0 * 37 + k], v.atom_mask[k]);
    if (storage == PaeStorage::none) continue;
    const auto p0 = size_t(s.pae_offsets[i]);
    ASSERT_EQ(size_t(s.pae_offsets[i + 1]) - p0, v.pae.size());
    for (size_t k = 0; k < v.pae.size(); ++k) {
      const float want =
          storage == PaeStorage::float16 ? half_to_float(float_to_half(v.pae[k])) : v.pae[k];
      ASSERT_EQ(s.pae[p0 + k], want);
      // binary16 keeps 11 significant bits: relative error <= 2^-11.
      ASSERT_NEAR(s.pae[p0 + k], v.pae[k], std::abs(v.pae[k]) * 0x1p-11f);
    }
  }
}

TEST_F(ShardTest, RoundTripsEveryColumn) {
  round_trip(path("f16.h5"), PaeStorage::float16);
  round_trip(path("f32.h5"), PaeStorage::float32);
  round_trip(path("none.h5"), PaeStorage::none);
  EXPECT_TRUE(read_shard(path("none.h5")).pae_offsets.empty());
}

TEST_F(ShardTest, UnfinishedShardLeavesNothingBehind) {
  {
    ShardWriter w(path());
    w.append(make_structure("P1", 10, true, 1).view);
  }
  EXPECT_FALSE(fs::exists(path()));
  EXPECT_FALSE(fs::exists(path() + ".tmp"));
}

TEST_F(ShardTest, RejectsInconsistentInputAndBadFiles) {
  EXPECT_THROW(ShardWriter(path("x.hdf")), InvalidArgument);
  ShardWriter w(path());
  auto o = make_structure("P1", 10, true, 1);
  o.view.plddt = std::span<const float>(o.plddt).first(9);
  EXPECT_THROW(w.append(o.view), InvalidArgument);
  o = make_structure("P1", 10, true, 1);
  o.aatype[3] = 21;
  EXPECT_THROW(w.append(o.view), InvalidArgument);
  o = make_structure("P1", 10, true, 1);
  o.view.template_sum_probs = {};  // one template, no sum_probs
  EXPECT_THROW(w.append(o.view), InvalidArgument);
  EXPECT_THROW(read_shard(path("absent.h5")), IoError);
  std::ofstream(path("garbage.h5")) << "not hdf5";
  EXPECT_THROW(read_shard(path("garbage.h5")), IoError);
}

TEST(Half, EveryHalfDecodesAndRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    const float f = half_to_float(uint16_t(h));
    if (exp == 0x1f && mant) {
      EXPECT_TRUE(std::isnan(f));
      continue;
    }
    // Reference decode straight from the IEEE 754 definition.
    const double mag = exp == 0x1f ? INFINITY
                       : exp == 0  ? std::ldexp(double(mant), -24)
                                   : std::ldexp(1.0 + double(mant) / 1024.0, int(exp) - 15);
    ASSERT_EQ(double(f), (h & 0x8000) ? -mag : mag) << h;
    ASSERT_EQ(float_to_half(f), uint16_t(h)) << h;
  }
}

TEST(Half, RoundsToNearestEven) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-70000.0f, 70000.0f);
  for (int i = 0; i < 200000; ++i) {
    const float x = i % 2 ? d(rng) : d(rng) * 1e-6f;  // normals and subnormals
    const uint16_t h = float_to_half(x);
    const double got = half_to_float(h);
    if (std::isinf(got)) {
      ASSERT_GE(std::abs(x), 65520.0f);  // the binary16 overflow threshold
      continue;
    }
    // No neighbour of the result is closer; on an exact tie the result has an even mantissa.
    for (int step : {-1, 1}) {
      const uint16_t nb = uint16_t(h + step);
      if (((nb >> 10) & 0x1f) == 0x1f || ((h & 0x7fff) == 0 && step < 0)) continue;
      const double other = half_to_float(nb);
      const double e1 = std::abs(double(x) - got), e2 = std::abs(double(x) - other);
      ASSERT_TRUE(e1 < e2 || (e1 == e2 && (h & 1) == 0)) << x;
    }
  }
  EXPECT_EQ(float_to_half(1.0f + 0x1p-11f), 0x3c00);      // tie: round to the even 1.0
  EXPECT_EQ(float_to_half(1.0f + 3 * 0x1p-11f), 0x3c02);  // tie: round up to even
}

}  // namespace
}  // namespace exafold::io
