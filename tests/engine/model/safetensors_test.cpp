// Tests of engine/model/safetensors.h (the strict header parser and
// SafetensorsFile) and engine/model/safetensors_writer.h (write_safetensors).
//
// Oracles: the golden checkpoints (tensor counts and entries checked against
// their headers with an independent JSON reader), hand-written headers whose
// expected verdict follows from the format rules in safetensors.h, and the
// raw file bytes for every span the code hands out. Malformed inputs are
// built one by one from a header string and a data blob so that each case
// says exactly what is wrong with it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/safetensors.h"
#include "engine/model/safetensors_writer.h"
#include "tests/test_support.h"

namespace beluga {
namespace {

using testing::golden_path;
using testing::read_bytes;
using testing::ScratchDir;
using testing::write_bytes;

constexpr const char* kLabel = "label/for-this-case.safetensors";

// A safetensors file: 8-byte little-endian header length, the header text
// exactly as given, then the data blob.
std::vector<uint8_t> make_file(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(n >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

// Same, with `data_bytes` bytes of data counting up from 0.
std::vector<uint8_t> make_file(const std::string& header, size_t data_bytes = 0) {
  std::vector<uint8_t> data(data_bytes);
  for (size_t i = 0; i < data_bytes; ++i) data[i] = static_cast<uint8_t>(i);
  return make_file(header, data);
}

// Only the 8-byte length prefix (claiming `header_bytes`) and `tail`.
std::vector<uint8_t> make_prefix(uint64_t header_bytes, const std::string& tail = "") {
  std::vector<uint8_t> bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(header_bytes >> (8 * i)));
  bytes.insert(bytes.end(), tail.begin(), tail.end());
  return bytes;
}

Result<SafetensorsLayout> parse(const std::vector<uint8_t>& bytes) {
  return parse_safetensors(std::span<const uint8_t>(bytes.data(), bytes.size()), kLabel);
}

// Parses `bytes`, requires an error, and checks that its message holds the
// label and every one of `fragments`.
void require_error(const std::vector<uint8_t>& bytes, const std::vector<std::string>& fragments) {
  auto result = parse(bytes);
  REQUIRE_FALSE(result.ok());
  const std::string& message = result.message();
  INFO("message: " << message);
  CHECK_THAT(message, Catch::Contains(kLabel));
  for (const auto& fragment : fragments) CHECK_THAT(message, Catch::Contains(fragment));
}

const TensorEntry* find_entry(const std::vector<TensorEntry>& tensors, const std::string& name) {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

// The invariants every accepted layout must satisfy.
void check_layout_invariants(const SafetensorsLayout& layout, size_t file_bytes) {
  REQUIRE(layout.data_offset == 8 + layout.header_bytes);
  REQUIRE(layout.data_offset <= file_bytes);
  const uint64_t data_bytes = file_bytes - layout.data_offset;
  uint64_t covered = 0;
  for (const auto& t : layout.tensors) {
    REQUIRE(t.data_begin <= t.data_end);
    REQUIRE(t.data_end <= data_bytes);
    REQUIRE(t.byte_count() ==
            static_cast<uint64_t>(t.element_count()) * static_cast<uint64_t>(dtype_size_bytes(t.dtype)));
    covered += t.byte_count();
  }
  REQUIRE(covered == data_bytes);  // the tensors tile the data section
}

// A small, valid file with metadata and three tensors (one of size zero).
const std::string kSmallHeader =
    R"({"__metadata__":{"format":"pt"},)"
    R"("w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},)"
    R"("s":{"dtype":"F8_E8M0","shape":[1,1],"data_offsets":[12,13]},)"
    R"("e":{"dtype":"F32","shape":[0,4],"data_offsets":[13,13]},)"
    R"("b":{"dtype":"F32","shape":[3],"data_offsets":[13,25]}})";
constexpr size_t kSmallData = 25;

// --- valid files ---------------------------------------------------------------

TEST_CASE("the tiny-bf16 golden checkpoint parses with all 353 tensors and its metadata",
          "[safetensors]") {
  const std::string path = golden_path("tiny-bf16/model.safetensors");
  auto file = SafetensorsFile::open(path);
  REQUIRE(file.ok());
  CHECK(file->path() == path);
  CHECK(file->tensors().size() == 353);
  CHECK(file->layout().metadata == std::map<std::string, std::string>{{"format", "pt"}});
  CHECK(file->layout().header_bytes == 33624);
  CHECK(file->layout().data_offset == 33632);

  const TensorEntry* embed = find_entry(file->tensors(), "embed.weight");
  REQUIRE(embed != nullptr);
  CHECK(embed->dtype == DType::BF16);
  CHECK(embed->shape == std::vector<int64_t>{512, 64});
  CHECK(embed->data_begin == 0);
  CHECK(embed->data_end == 65536);
  CHECK(embed->element_count() == 512 * 64);

  const std::vector<uint8_t> bytes = read_bytes(path);
  check_layout_invariants(file->layout(), bytes.size());
}

TEST_CASE("the tiny-fp8 golden checkpoint parses with all 581 tensors, fp8 weights and e8m0 scales",
          "[safetensors]") {
  const std::string path = golden_path("tiny-fp8/model.safetensors");
  auto file = SafetensorsFile::open(path);
  REQUIRE(file.ok());
  CHECK(file->tensors().size() == 581);
  CHECK(file->layout().metadata == std::map<std::string, std::string>{{"format", "pt"}});

  const TensorEntry* weight = find_entry(file->tensors(), "layers.0.attn.wq_a.weight");
  REQUIRE(weight != nullptr);
  CHECK(weight->dtype == DType::F8_E4M3);
  CHECK(weight->shape == std::vector<int64_t>{32, 64});
  CHECK(weight->byte_count() == 32 * 64);

  const TensorEntry* scale = find_entry(file->tensors(), "layers.0.attn.wq_a.scale");
  REQUIRE(scale != nullptr);
  CHECK(scale->dtype == DType::F8_E8M0);
  CHECK(scale->shape == std::vector<int64_t>{1, 1});
  CHECK(scale->byte_count() == 1);

  const std::vector<uint8_t> bytes = read_bytes(path);
  check_layout_invariants(file->layout(), bytes.size());
}

TEST_CASE("every golden tensor entry matches the header as an independent JSON reader sees it",
          "[safetensors]") {
  for (const char* relative : {"tiny-bf16/model.safetensors", "tiny-fp8/model.safetensors"}) {
    INFO(relative);
    const std::vector<uint8_t> bytes = read_bytes(golden_path(relative));
    REQUIRE(bytes.size() >= 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[static_cast<size_t>(i)];
    REQUIRE(8 + n <= bytes.size());
    const auto header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));

    auto layout = parse(bytes);
    REQUIRE(layout.ok());
    CHECK(layout->header_bytes == n);
    CHECK(layout->tensors.size() + 1 == header.size());  // + __metadata__
    for (const auto& t : layout->tensors) {
      INFO(t.name);
      REQUIRE(header.contains(t.name));
      const auto& h = header.at(t.name);
      CHECK(h.at("dtype").get<std::string>() == dtype_name(t.dtype));
      CHECK(h.at("shape").get<std::vector<int64_t>>() == t.shape);
      CHECK(h.at("data_offsets").at(0).get<uint64_t>() == t.data_begin);
      CHECK(h.at("data_offsets").at(1).get<uint64_t>() == t.data_end);
    }
  }
}

TEST_CASE("SafetensorsFile::view gives the file's bytes at data_offset + begin", "[safetensors]") {
  const std::string path = golden_path("tiny-fp8/model.safetensors");
  const std::vector<uint8_t> bytes = read_bytes(path);
  auto file = SafetensorsFile::open(path);
  REQUIRE(file.ok());
  for (const auto& entry : file->tensors()) {
    INFO(entry.name);
    TensorView view = file->view(entry);
    CHECK(view.entry == &entry);
    REQUIRE(view.file != nullptr);
    CHECK(*view.file == path);
    REQUIRE(view.bytes.size() == entry.byte_count());
    const size_t start = file->layout().data_offset + entry.data_begin;
    REQUIRE(start + view.bytes.size() <= bytes.size());
    CHECK(std::equal(view.bytes.begin(), view.bytes.end(), bytes.begin() + static_cast<std::ptrdiff_t>(start)));
  }
}

TEST_CASE("a small hand-built file with a zero-size tensor and padded header parses", "[safetensors]") {
  auto layout = parse(make_file(kSmallHeader + "       ", kSmallData));  // trailing spaces are padding
  REQUIRE(layout.ok());
  CHECK(layout->tensors.size() == 4);
  CHECK(layout->metadata.at("format") == "pt");
  const TensorEntry* e = find_entry(layout->tensors, "e");
  REQUIRE(e != nullptr);
  CHECK(e->element_count() == 0);
  CHECK(e->byte_count() == 0);
  check_layout_invariants(*layout, make_file(kSmallHeader + "       ", kSmallData).size());
}

TEST_CASE("a header with no tensors and no data is a valid, empty file", "[safetensors]") {
  auto empty_object = parse(make_file("{}"));
  REQUIRE(empty_object.ok());
  CHECK(empty_object->tensors.empty());
  auto only_metadata = parse(make_file(R"({"__metadata__":{}})"));
  REQUIRE(only_metadata.ok());
  CHECK(only_metadata->tensors.empty());
  CHECK(only_metadata->metadata.empty());
}

// safetensors.h promises SafetensorsLayout::tensors "in header order" (and
// CheckpointFiles::all_tensors "in file then header order").
TEST_CASE("layout tensors are listed in header order, not sorted by name", "[safetensors]") {
  const std::string header = R"({"zeta":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                             R"("alpha":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},)"
                             R"("mid":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}})";
  auto layout = parse(make_file(header, 3));
  REQUIRE(layout.ok());
  REQUIRE(layout->tensors.size() == 3);
  CHECK(layout->tensors[0].name == "zeta");
  CHECK(layout->tensors[1].name == "alpha");
  CHECK(layout->tensors[2].name == "mid");
}

// --- writer ------------------------------------------------------------------------

struct Planned {
  TensorToWrite tensor;
  std::vector<uint8_t> bytes;
};

std::vector<Planned> planned_tensors() {
  std::vector<Planned> planned = {
      {{"model.embed", DType::BF16, {2, 3}}, {}},
      {{"f16", DType::F16, {1, 2, 3}}, {}},
      {{"f32", DType::F32, {4}}, {}},
      {{"fp8.weight", DType::F8_E4M3, {3, 5}}, {}},
      {{"fp8.scale", DType::F8_E8M0, {1, 1}}, {}},
      {{"i8", DType::I8, {7}}, {}},
      {{"empty", DType::U8, {0, 4}}, {}},
      {{"scalar", DType::I32, {}}, {}},
      {{"i64", DType::I64, {2}}, {}},
  };
  for (size_t i = 0; i < planned.size(); ++i) {
    planned[i].bytes.resize(planned[i].tensor.byte_count());
    for (size_t j = 0; j < planned[i].bytes.size(); ++j)
      planned[i].bytes[j] = static_cast<uint8_t>(i * 37 + j * 11 + 1);
  }
  return planned;
}

std::vector<TensorToWrite> tensors_of(const std::vector<Planned>& planned) {
  std::vector<TensorToWrite> tensors;
  for (const auto& p : planned) tensors.push_back(p.tensor);
  return tensors;
}

bool folder_is_empty(const std::string& path) {
  return std::filesystem::is_empty(std::filesystem::path(path));
}

TEST_CASE("write_safetensors round-trips names, dtypes, shapes, bytes and metadata", "[safetensors]") {
  ScratchDir dir;
  const std::string path = dir.file("round.safetensors");
  const auto planned = planned_tensors();
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "round trip"}};
  Status written = write_safetensors(path, tensors_of(planned), metadata,
                                     [&](size_t i, const AppendBytes& append) -> Status {
                                       // Odd tensors one byte at a time, even ones in one piece.
                                       const auto& b = planned[i].bytes;
                                       if (i % 2 == 0) return append(b);
                                       for (size_t j = 0; j < b.size(); ++j)
                                         if (Status s = append(std::span<const uint8_t>(&b[j], 1)); !s) return s;
                                       return {};
                                     });
  REQUIRE(written.ok());

  auto file = SafetensorsFile::open(path);
  REQUIRE(file.ok());
  CHECK(file->layout().metadata == metadata);
  REQUIRE(file->tensors().size() == planned.size());
  uint64_t total = 0;
  for (const auto& p : planned) {
    INFO(p.tensor.name);
    const TensorEntry* entry = find_entry(file->tensors(), p.tensor.name);
    REQUIRE(entry != nullptr);
    CHECK(entry->dtype == p.tensor.dtype);
    CHECK(entry->shape == p.tensor.shape);
    CHECK(entry->byte_count() == p.bytes.size());
    TensorView view = file->view(*entry);
    CHECK(std::vector<uint8_t>(view.bytes.begin(), view.bytes.end()) == p.bytes);
    total += p.bytes.size();
  }
  CHECK(find_entry(file->tensors(), "scalar")->element_count() == 1);
  CHECK(find_entry(file->tensors(), "empty")->element_count() == 0);

  // Header length a multiple of 8, so the data section is 8-byte aligned.
  const std::vector<uint8_t> bytes = read_bytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[static_cast<size_t>(i)];
  CHECK(n % 8 == 0);
  CHECK(file->layout().header_bytes == n);
  CHECK(file->layout().data_offset % 8 == 0);
  CHECK(bytes.size() == 8 + n + total);
  check_layout_invariants(file->layout(), bytes.size());
}

TEST_CASE("write_safetensors pads every header length to a multiple of 8", "[safetensors]") {
  ScratchDir dir;
  // Names of growing length move the unpadded header length through every
  // remainder mod 8.
  for (size_t len = 1; len <= 16; ++len) {
    const std::string path = dir.file("pad" + std::to_string(len) + ".safetensors");
    std::vector<TensorToWrite> tensors = {{std::string(len, 'x'), DType::U8, {3}}};
    Status s = write_safetensors(path, tensors, {}, [](size_t, const AppendBytes& append) {
      const uint8_t three[3] = {7, 8, 9};
      return append(three);
    });
    REQUIRE(s.ok());
    auto file = SafetensorsFile::open(path);
    REQUIRE(file.ok());
    CHECK(file->layout().header_bytes % 8 == 0);
    REQUIRE(file->tensors().size() == 1);
    TensorView view = file->view(file->tensors()[0]);
    CHECK(std::vector<uint8_t>(view.bytes.begin(), view.bytes.end()) == std::vector<uint8_t>{7, 8, 9});
  }
}

TEST_CASE("write_safetensors with no tensors writes a valid empty file", "[safetensors]") {
  ScratchDir dir;
  const std::string path = dir.file("empty.safetensors");
  REQUIRE(write_safetensors(path, {}, {}, [](size_t, const AppendBytes&) { return Status{}; }).ok());
  auto file = SafetensorsFile::open(path);
  REQUIRE(file.ok());
  CHECK(file->tensors().empty());
  CHECK(file->layout().header_bytes % 8 == 0);
}

TEST_CASE("write_safetensors refuses a producer that writes too few bytes and leaves no file",
          "[safetensors]") {
  ScratchDir dir;
  const std::string path = dir.file("short.safetensors");
  std::vector<TensorToWrite> tensors = {{"first", DType::F32, {2}}, {"second", DType::F32, {2}}};
  Status s = write_safetensors(path, tensors, {}, [](size_t i, const AppendBytes& append) -> Status {
    std::vector<uint8_t> b(i == 1 ? 5 : 8, 0x11);  // "second" is 3 bytes short
    return append(b);
  });
  REQUIRE_FALSE(s.ok());
  INFO("message: " << s.message());
  CHECK_THAT(s.message(), Catch::Contains("second"));
  CHECK_THAT(s.message(), Catch::Contains(path));
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(folder_is_empty(dir.path()));  // no temp file left behind
}

TEST_CASE("write_safetensors refuses a producer that writes too many bytes and leaves no file",
          "[safetensors]") {
  ScratchDir dir;
  const std::string path = dir.file("long.safetensors");
  std::vector<TensorToWrite> tensors = {{"only", DType::BF16, {2, 2}}};

  SECTION("in one append") {
    Status s = write_safetensors(path, tensors, {}, [](size_t, const AppendBytes& append) -> Status {
      std::vector<uint8_t> b(9, 0x22);
      return append(b);
    });
    REQUIRE_FALSE(s.ok());
    INFO("message: " << s.message());
    CHECK_THAT(s.message(), Catch::Contains("only"));
  }
  SECTION("by a producer that ignores the append error and reports success") {
    Status s = write_safetensors(path, tensors, {}, [](size_t, const AppendBytes& append) -> Status {
      std::vector<uint8_t> b(6, 0x22);
      (void)append(b);
      (void)append(b);
      return {};
    });
    REQUIRE_FALSE(s.ok());
    INFO("message: " << s.message());
    CHECK_THAT(s.message(), Catch::Contains("only"));
  }
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(folder_is_empty(dir.path()));
}

TEST_CASE("write_safetensors passes on a producer's own error and leaves an existing file untouched",
          "[safetensors]") {
  ScratchDir dir;
  const std::string path = dir.file("kept.safetensors");
  const std::vector<uint8_t> before = {1, 2, 3, 4, 5};
  write_bytes(path, before);
  std::vector<TensorToWrite> tensors = {{"t", DType::U8, {4}}};
  Status s = write_safetensors(path, tensors, {}, [](size_t, const AppendBytes&) -> Status {
    return make_error("producer gave up on purpose");
  });
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("producer gave up on purpose"));
  CHECK(read_bytes(path) == before);
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("write_safetensors refuses duplicate tensor names and the reserved __metadata__ name",
          "[safetensors]") {
  ScratchDir dir;
  const std::string path = dir.file("dup.safetensors");
  size_t calls = 0;
  auto produce = [&](size_t, const AppendBytes& append) -> Status {
    ++calls;
    const uint8_t one[1] = {0};
    return append(one);
  };

  SECTION("duplicate") {
    std::vector<TensorToWrite> tensors = {
        {"same.name", DType::U8, {1}}, {"other", DType::U8, {1}}, {"same.name", DType::U8, {1}}};
    Status s = write_safetensors(path, tensors, {}, produce);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("same.name"));
  }
  SECTION("reserved") {
    std::vector<TensorToWrite> tensors = {{"__metadata__", DType::U8, {1}}};
    Status s = write_safetensors(path, tensors, {}, produce);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("__metadata__"));
  }
  CHECK(calls == 0);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(folder_is_empty(dir.path()));
}

// Whatever the writer accepts, the reader must read back: a writer that
// produces files its own reader refuses only fails later, far from the cause.
TEST_CASE("write_safetensors never writes a file that SafetensorsFile::open refuses",
          "[safetensors]") {
  ScratchDir dir;
  const std::vector<std::pair<std::string, TensorToWrite>> cases = {
      {"empty name", {"", DType::U8, {1}}},
      {"name over 4096 bytes", {std::string(4097, 'n'), DType::U8, {1}}},
      {"rank 17", {"rank17", DType::U8, std::vector<int64_t>(17, 1)}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].first);
    const std::string path = dir.file("case" + std::to_string(i) + ".safetensors");
    Status s = write_safetensors(path, {cases[i].second}, {}, [](size_t, const AppendBytes& append) {
      const uint8_t one[1] = {42};
      return append(one);
    });
    if (!s.ok()) {
      CHECK_FALSE(std::filesystem::exists(path));
      continue;
    }
    auto file = SafetensorsFile::open(path);
    const std::string why = file.ok() ? std::string("(opened)") : file.message();
    INFO("reader says: " << why);
    CHECK(file.ok());
  }
}

// --- malformed input: the length prefix ------------------------------------------

TEST_CASE("an empty file is refused as truncated", "[safetensors]") {
  require_error({}, {"truncated", "0 bytes"});
}

TEST_CASE("a 5-byte file is refused as too short for the header length", "[safetensors]") {
  require_error({1, 0, 0, 0, 0}, {"truncated", "5 bytes"});
}

TEST_CASE("a header length larger than the file is refused as truncated", "[safetensors]") {
  require_error(make_prefix(100, "{}"), {"truncated", "100"});
  require_error(make_prefix(3), {"truncated"});
  // One byte too long: the header text is there but one more was promised.
  std::vector<uint8_t> bytes = make_file(R"({"__metadata__":{}})");
  bytes[0] = static_cast<uint8_t>(bytes[0] + 1);
  require_error(bytes, {"truncated"});
}

TEST_CASE("a header length over 100 MiB is refused before anything is read", "[safetensors]") {
  require_error(make_prefix(kMaxSafetensorsHeaderBytes + 1, "{}"), {"exceeds the limit"});
  require_error(make_prefix(~uint64_t{0}, "{}"), {"exceeds the limit"});
  require_error(make_prefix(uint64_t{1} << 63), {"exceeds the limit"});
}

TEST_CASE("a zero header length is refused as not JSON", "[safetensors]") {
  require_error(make_prefix(0), {"JSON"});
}

// --- malformed input: the header JSON ------------------------------------------------

TEST_CASE("a header that is not JSON is refused", "[safetensors]") {
  require_error(make_file("{not json"), {"not valid JSON"});
  require_error(make_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}} trailing)", 1),
                {"not valid JSON"});
  require_error(make_file(std::string("{\"a\":\0}", 7)), {"not valid JSON"});
  require_error(make_file("{\"\xff\xfe\":{}}"), {"not valid JSON"});  // not UTF-8
}

TEST_CASE("a header that is a JSON array or scalar instead of an object is refused", "[safetensors]") {
  require_error(make_file("[]"), {"must be a JSON object"});
  require_error(make_file(R"([{"dtype":"U8","shape":[1],"data_offsets":[0,1]}])", 1), {"must be a JSON object"});
  require_error(make_file("42"), {"must be a JSON object"});
  require_error(make_file("\"text\""), {"must be a JSON object"});
  require_error(make_file("null"), {"must be a JSON object"});
}

TEST_CASE("a header nested too deep is refused without crashing", "[safetensors]") {
  require_error(make_file(R"({"a":{"dtype":[[[[1]]]],"shape":[1],"data_offsets":[0,1]}})", 1), {"nested"});
  require_error(make_file(R"({"__metadata__":{"k":{"x":{"y":{}}}}})"), {"nested"});
  const size_t depth = 100000;
  // Unbalanced: only opening brackets.
  require_error(make_file(std::string(depth, '[')), {"nested"});
  // Balanced and otherwise valid JSON, inside a tensor description.
  require_error(make_file(R"({"a":{"dtype":)" + std::string(depth, '[') + std::string(depth, ']') + "}}"),
                {"nested"});
  // Deeply nested objects.
  std::string objects;
  for (size_t i = 0; i < depth; ++i) objects += R"({"k":)";
  objects += "1";
  objects += std::string(depth, '}');
  require_error(make_file(objects), {"nested"});
}

// safetensors.h: "Every error names the file and, where there is one, the
// tensor." A too-deep value inside tensor 'deep.tensor' belongs to that tensor.
TEST_CASE("a header nested too deep inside a tensor description names that tensor",
          "[safetensors]") {
  require_error(make_file(R"({"deep.tensor":{"dtype":[[[[1]]]],"shape":[1],"data_offsets":[0,1]}})", 1),
                {"nested", "deep.tensor"});
}

TEST_CASE("a duplicate tensor name is refused even though a JSON object would keep the last",
          "[safetensors]") {
  require_error(make_file(R"({"twice":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                          R"("twice":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                          2),
                {"duplicate", "twice"});
  require_error(make_file(R"({"__metadata__":{},"__metadata__":{}})"), {"duplicate", "__metadata__"});
  // The same name spelled with a JSON escape is still the same name.
  require_error(make_file(R"({"ab":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                          R"("\u0061b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                          2),
                {"duplicate", "ab"});
}

// A strict parser must not pick one of two conflicting values: other readers
// may take the first where this one takes the last (the reference
// implementation's serde-derived TensorInfo refuses duplicate fields).
TEST_CASE("a tensor description that repeats a field is refused", "[safetensors]") {
  require_error(make_file(R"({"t.twice":{"dtype":"F32","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1),
                {"t.twice", "dtype"});
}

// --- malformed input: a tensor description ---------------------------------------------

TEST_CASE("an unknown or missing dtype is refused and names the tensor", "[safetensors]") {
  require_error(make_file(R"({"t.e5m2":{"dtype":"F8_E5M2","shape":[1],"data_offsets":[0,1]}})", 1),
                {"t.e5m2", "unknown dtype", "F8_E5M2"});
  require_error(make_file(R"({"t.lower":{"dtype":"bf16","shape":[1],"data_offsets":[0,2]}})", 2),
                {"t.lower", "unknown dtype"});
  require_error(make_file(R"({"t.missing":{"shape":[1],"data_offsets":[0,1]}})", 1), {"t.missing", "dtype"});
  require_error(make_file(R"({"t.number":{"dtype":2,"shape":[1],"data_offsets":[0,1]}})", 1),
                {"t.number", "dtype"});
}

TEST_CASE("a tensor description that is not an object or has an unknown field is refused",
          "[safetensors]") {
  require_error(make_file(R"({"t.array":[1,2]})"), {"t.array", "must be an object"});
  require_error(make_file(R"({"t.string":"BF16"})"), {"t.string", "must be an object"});
  require_error(
      make_file(R"({"t.extra":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"strides":[1]}})", 1),
      {"t.extra", "unknown field", "strides"});
}

TEST_CASE("an empty or overlong tensor name is refused", "[safetensors]") {
  require_error(make_file(R"({"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1), {"tensor name"});
  const std::string long_name(4097, 'n');
  require_error(make_file(R"({")" + long_name + R"(":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1),
                {"tensor name", "4096"});
  const std::string longest_name(4096, 'n');
  CHECK(parse(make_file(R"({")" + longest_name + R"(":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1))
            .ok());
}

TEST_CASE("a shape with a negative, fractional or non-number entry is refused", "[safetensors]") {
  require_error(make_file(R"({"t.neg":{"dtype":"U8","shape":[-1,2],"data_offsets":[0,2]}})", 2),
                {"t.neg", "shape", "non-negative integers"});
  require_error(make_file(R"({"t.float":{"dtype":"U8","shape":[2.0],"data_offsets":[0,2]}})", 2),
                {"t.float", "shape", "non-negative integers"});
  require_error(make_file(R"({"t.float2":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}})", 1),
                {"t.float2", "shape"});
  require_error(make_file(R"({"t.str":{"dtype":"U8","shape":["2"],"data_offsets":[0,2]}})", 2),
                {"t.str", "shape"});
  require_error(make_file(R"({"t.nested":{"dtype":"U8","shape":[[2]],"data_offsets":[0,2]}})", 2),
                {"t.nested", "shape"});
  require_error(make_file(R"({"t.noshape":{"dtype":"U8","data_offsets":[0,1]}})", 1), {"t.noshape", "shape"});
  require_error(make_file(R"({"t.shapeobj":{"dtype":"U8","shape":{"0":1},"data_offsets":[0,1]}})", 1),
                {"t.shapeobj", "shape"});
}

TEST_CASE("a shape of too high a rank is refused", "[safetensors]") {
  std::string dims = "1";
  for (int i = 1; i < 17; ++i) dims += ",1";
  require_error(make_file(R"({"t.rank":{"dtype":"U8","shape":[)" + dims + R"(],"data_offsets":[0,1]}})", 1),
                {"t.rank", "rank"});
}

TEST_CASE("a shape whose byte count overflows is refused", "[safetensors]") {
  require_error(
      make_file(R"({"t.huge":{"dtype":"BF16","shape":[4294967296,4294967296,16],"data_offsets":[0,2]}})", 2),
      {"t.huge", "more bytes than any file can hold"});
  // 2^32 * 2^32 * 1 wraps to exactly 0 in 64 bits: it must not pass as empty.
  require_error(make_file(R"({"t.wrap":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})"),
                {"t.wrap"});
  // A single dimension past 2^62, and the largest u64.
  require_error(make_file(R"({"t.dim":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,0]}})"),
                {"t.dim", "too large"});
  require_error(make_file(R"({"t.max":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,0]}})"),
                {"t.max", "too large"});
  // Past u64: JSON readers turn it into a float, which is not an integer.
  require_error(make_file(R"({"t.big":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,0]}})"),
                {"t.big", "shape"});
}

TEST_CASE("malformed data_offsets are refused and name the tensor", "[safetensors]") {
  require_error(make_file(R"({"t.backwards":{"dtype":"U8","shape":[0],"data_offsets":[4,2]}})", 4),
                {"t.backwards", "begin 4 is after end 2"});
  require_error(make_file(R"({"t.one":{"dtype":"U8","shape":[1],"data_offsets":[1]}})", 1),
                {"t.one", "data_offsets"});
  require_error(make_file(R"({"t.three":{"dtype":"U8","shape":[1],"data_offsets":[0,1,1]}})", 1),
                {"t.three", "data_offsets"});
  require_error(make_file(R"({"t.neg":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}})", 1),
                {"t.neg", "data_offsets"});
  require_error(make_file(R"({"t.float":{"dtype":"U8","shape":[1],"data_offsets":[0,1.0]}})", 1),
                {"t.float", "data_offsets"});
  require_error(make_file(R"({"t.none":{"dtype":"U8","shape":[1]}})", 1), {"t.none", "data_offsets"});
}

TEST_CASE("data_offsets ending past the data section are refused as truncated", "[safetensors]") {
  require_error(make_file(R"({"t.past":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})", 7),
                {"t.past", "past the end", "truncated"});
  require_error(make_file(R"({"t.far":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]}})", 1),
                {"t.far", "past the end"});
}

TEST_CASE("a golden file missing its last 100 bytes names the cut tensor", "[safetensors]") {
  std::vector<uint8_t> bytes = read_bytes(golden_path("tiny-bf16/model.safetensors"));
  REQUIRE(bytes.size() > 100);
  bytes.resize(bytes.size() - 100);
  // norm.weight holds the last 256 bytes of the data section.
  require_error(bytes, {"norm.weight", "past the end", "truncated"});

  ScratchDir dir;
  const std::string path = dir.file("cut.safetensors");
  write_bytes(path, bytes);
  auto file = SafetensorsFile::open(path);
  REQUIRE_FALSE(file.ok());
  CHECK_THAT(file.message(), Catch::Contains(path));
  CHECK_THAT(file.message(), Catch::Contains("norm.weight"));
}

TEST_CASE("a header whose shape disagrees with its data_offsets is refused", "[safetensors]") {
  // BF16 [2,2] is 8 bytes; the offsets span 6.
  require_error(make_file(R"({"t.liar":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,6]}})", 6),
                {"t.liar", "8 bytes", "span 6"});
  // The other way: fewer bytes described than spanned.
  require_error(make_file(R"({"t.short":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", 8),
                {"t.short", "4 bytes", "span 8"});
  // A zero-size shape with a non-empty span.
  require_error(make_file(R"({"t.zero":{"dtype":"F32","shape":[0,4],"data_offsets":[0,4]}})", 4), {"t.zero"});
}

// --- malformed input: the layout of the data section -------------------------------------

TEST_CASE("two tensors whose bytes overlap are refused and both are named", "[safetensors]") {
  require_error(make_file(R"({"t.first":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                          R"("t.second":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                          6),
                {"t.first", "t.second", "overlaps"});
  require_error(make_file(R"({"t.a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                          R"("t.b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
                          4),
                {"t.a", "t.b", "overlaps"});
  // A zero-size tensor placed inside another one.
  require_error(make_file(R"({"t.big":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},)"
                          R"("t.inside":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}})",
                          8),
                {"t.big", "t.inside", "overlaps"});
}

TEST_CASE("a hole between tensors is refused", "[safetensors]") {
  require_error(make_file(R"({"t.lo":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                          R"("t.hi":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}})",
                          12),
                {"t.hi", "belong to no tensor", "4..8"});
  // A hole at the very start.
  require_error(make_file(R"({"t.late":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", 6),
                {"t.late", "belong to no tensor"});
}

TEST_CASE("extra bytes after the last tensor are refused", "[safetensors]") {
  require_error(make_file(R"({"t":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 5),
                {"1 bytes after the last tensor"});
  require_error(make_file("{}", 3), {"3 bytes after the last tensor"});
}

// --- malformed input: __metadata__ ---------------------------------------------------------

TEST_CASE("__metadata__ that is not an object of strings is refused", "[safetensors]") {
  require_error(make_file(R"({"__metadata__":"pt"})"), {"__metadata__", "object"});
  require_error(make_file(R"({"__metadata__":["format","pt"]})"), {"__metadata__", "object"});
  require_error(make_file(R"({"__metadata__":null})"), {"__metadata__", "object"});
  require_error(make_file(R"({"__metadata__":{"format":"pt","total":5}})"), {"__metadata__", "total", "string"});
  require_error(make_file(R"({"__metadata__":{"flags":["a"]}})"), {"__metadata__", "flags", "string"});
}

// --- robustness sweeps -------------------------------------------------------------------

TEST_CASE("every proper prefix of a valid file is refused without crashing", "[safetensors]") {
  const std::vector<uint8_t> bytes = make_file(kSmallHeader + "   ", kSmallData);
  REQUIRE(parse(bytes).ok());
  for (size_t size = 0; size < bytes.size(); ++size) {
    const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
    auto result = parse(prefix);
    INFO("prefix length " << size);
    REQUIRE_FALSE(result.ok());
    REQUIRE_THAT(result.message(), Catch::Contains(kLabel));
  }
}

TEST_CASE("flipping any byte of the length or header never crashes the parser", "[safetensors]") {
  const std::vector<uint8_t> original = make_file(kSmallHeader, kSmallData);
  const size_t header_end = 8 + kSmallHeader.size();
  size_t accepted = 0;
  size_t tried = 0;
  for (size_t at = 0; at < header_end; ++at) {
    for (int mask : {0xFF, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80}) {
      std::vector<uint8_t> bytes = original;
      bytes[at] = static_cast<uint8_t>(bytes[at] ^ mask);
      auto result = parse(bytes);
      ++tried;
      INFO("byte " << at << " xor " << mask);
      if (result.ok()) {
        ++accepted;
        check_layout_invariants(*result, bytes.size());
      } else {
        REQUIRE_THAT(result.message(), Catch::Contains(kLabel));
      }
    }
  }
  CHECK(tried == header_end * 9);
  CHECK(accepted < tried);  // the sweep did refuse things
}

TEST_CASE("random corruption of a valid file never crashes the parser", "[safetensors]") {
  const std::vector<uint8_t> original = make_file(kSmallHeader, kSmallData);
  std::mt19937 rng(20240531);
  std::uniform_int_distribution<size_t> position(0, original.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> count(1, 4);
  const std::string alphabet = "{}[]\",:0123456789-. eE";
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> bytes = original;
    const int changes = count(rng);
    for (int c = 0; c < changes; ++c) {
      const size_t at = position(rng);
      // Half the time a JSON-significant character, to reach past the lexer.
      bytes[at] = (round % 2 == 0) ? static_cast<uint8_t>(alphabet[pick(rng)]) : static_cast<uint8_t>(byte(rng));
    }
    auto result = parse(bytes);
    INFO("round " << round);
    if (result.ok()) check_layout_invariants(*result, bytes.size());
  }
}

}  // namespace
}  // namespace beluga
