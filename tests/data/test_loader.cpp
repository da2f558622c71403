// The loader: the same batches whatever the number of workers, reshuffled per epoch, drop_last,
// sharding, bad files replaced (or fatal with --strict), the decoded cache.
#include <doctest/doctest.h>

#include <set>

#include "data/loader.h"
#include "tests/data/data_test_util.h"

using namespace vt;
using namespace vt::data;
using namespace vt::testing;

namespace {
// A synthetic dataset of n tiny images whose pixels encode the index; `bad` fails to decode.
class Synthetic : public Dataset {
 public:
  Synthetic(int64_t n, std::set<int64_t> bad = {}) : n_(n), bad_(std::move(bad)) { classes_ = {"a", "b", "c"}; }
  int64_t size() const override { return n_; }
  int64_t label(int64_t i) const override { return i % 3; }
  DecodeResult load(int64_t i) const override {
    DecodeResult r;
    if (bad_.count(i)) {
      r.error = "decoding failed (synthetic)";
      return r;
    }
    r.image = make_image(40, 30, 3, static_cast<uint8_t>(i));
    ++loads;
    return r;
  }
  std::string describe(int64_t i) const override { return "item" + std::to_string(i); }
  mutable std::atomic<int64_t> loads{0};

 private:
  int64_t n_;
  std::set<int64_t> bad_;
};

LoaderOptions options(int workers) {
  LoaderOptions o;
  o.batch_size = 4;
  o.num_workers = workers;
  o.seed = 3;
  o.transform.input_size = 16;
  o.transform.rand_augment = parse_rand_augment("rand-m9-mstd0.5-inc1");
  o.mixup = MixupConfig{};
  o.mixup->num_classes = 3;
  o.warn = [](const std::string&) {};
  return o;
}

std::vector<float> epoch_values(DataLoader& l, int64_t epoch, std::vector<int64_t>* order = nullptr) {
  std::vector<float> all;
  l.start_epoch(epoch);
  while (auto b = l.next()) {
    auto v = b->images.to_vector();
    all.insert(all.end(), v.begin(), v.end());
    if (b->targets.defined()) {
      auto t = b->targets.to_vector();
      all.insert(all.end(), t.begin(), t.end());
    }
    if (order) order->insert(order->end(), b->indices.begin(), b->indices.end());
  }
  return all;
}
}  // namespace

TEST_CASE("batches are identical with 0, 1 and 3 workers, and change between epochs") {
  auto ds = std::make_shared<Synthetic>(22);
  DataLoader l0(ds, options(0)), l1(ds, options(1)), l3(ds, options(3));
  CHECK(l0.batches_per_epoch() == 5);  // drop_last: 22 / 4
  std::vector<int64_t> order0, order1;
  const auto a = epoch_values(l0, 0, &order0);
  CHECK(a == epoch_values(l1, 0));
  CHECK(a == epoch_values(l3, 0));
  epoch_values(l1, 1, &order1);
  CHECK(order0 != order1);  // reshuffled
  CHECK(std::set<int64_t>(order0.begin(), order0.end()).size() == 20);
  CHECK(l3.wait_seconds() >= 0);
}

TEST_CASE("eval loaders keep every sample in order; ranks split an epoch between them") {
  auto ds = std::make_shared<Synthetic>(10);
  LoaderOptions o = options(2);
  o.train = false;
  o.shuffle = false;
  o.drop_last = false;
  o.mixup.reset();
  DataLoader l(ds, o);
  std::vector<int64_t> seen;
  epoch_values(l, 0, &seen);
  CHECK(seen == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  LoaderOptions r0 = options(1), r1 = options(1);
  r0.world_size = r1.world_size = 2;
  r1.rank = 1;
  r0.drop_last = r1.drop_last = false;
  r0.mixup.reset();
  r1.mixup.reset();
  DataLoader a(ds, r0), b(ds, r1);
  std::vector<int64_t> sa, sb;
  epoch_values(a, 4, &sa);
  epoch_values(b, 4, &sb);
  CHECK(sa.size() == 5);
  std::set<int64_t> all(sa.begin(), sa.end());
  all.insert(sb.begin(), sb.end());
  CHECK(all.size() == 10);  // disjoint shards covering the dataset
}

TEST_CASE("a sample that fails to decode is replaced and reported once; --strict stops") {
  auto ds = std::make_shared<Synthetic>(12, std::set<int64_t>{5});
  LoaderOptions o = options(2);
  std::vector<std::string> warnings;
  std::mutex mu;
  o.warn = [&](const std::string& m) {
    std::lock_guard<std::mutex> lock(mu);
    warnings.push_back(m);
  };
  DataLoader l(ds, o);
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<int64_t> used;
    epoch_values(l, epoch, &used);
    CHECK(std::count(used.begin(), used.end(), 5) == 0);
  }
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "item5: decoding failed (synthetic); using the next sample instead");
  CHECK(l.bad_files() == 1);
  o.strict = true;
  DataLoader s(ds, o);
  s.start_epoch(0);
  CHECK_THROWS_WITH_AS(([&] {
                         while (s.next()) {
                         }
                       })(),
                       "item5: decoding failed (synthetic) (--strict)", Error);
}

TEST_CASE("the decoded cache decodes each image once and changes nothing") {
  auto ds = std::make_shared<Synthetic>(8);
  LoaderOptions o = options(2);
  o.cache_decoded = true;
  DataLoader cached(ds, o);
  const auto e0 = epoch_values(cached, 0);
  epoch_values(cached, 1);
  CHECK(ds->loads.load() == 8);
  DataLoader plain(std::make_shared<Synthetic>(8), options(2));
  CHECK(epoch_values(plain, 0) == e0);
}

TEST_CASE("bad options are errors") {
  auto ds = std::make_shared<Synthetic>(8);
  LoaderOptions o = options(1);
  o.batch_size = 3;  // odd with mixup
  CHECK_THROWS_WITH_AS(DataLoader(ds, o), "mixup/cutmix needs an even batch size, got 3", Error);
  o = options(1);
  o.rank = 2;
  CHECK_THROWS_AS(DataLoader(ds, o), Error);
  o = options(1);
  o.drop_last = false;  // a short last batch could be odd
  CHECK_THROWS_AS(DataLoader(ds, o), Error);
}
