#include "engine/model/safetensors.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

namespace beluga {
namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 3;  // root object > tensor object > shape array

// First pass over the header: bounds nesting depth and rejects duplicate
// tensor names and duplicate fields within a tensor (a DOM parse would
// silently keep the last one).
class HeaderShapeCheck : public json::json_sax_t {
 public:
  std::string error;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return enter(); }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool key(string_t& k) override {
    if (depth_ == 1) {
      current_ = k;
      fields_.clear();
      if (!top_level_keys_.insert(k).second) {
        error = "duplicate tensor name '" + k + "'";
        return false;
      }
    } else if (depth_ == 2 && !fields_.insert(k).second) {
      error = "tensor '" + current_ + "': field '" + k + "' appears twice";
      return false;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    if (error.empty()) error = std::string("header is not valid JSON: ") + e.what();
    return false;
  }

 private:
  bool enter() {
    if (++depth_ > kMaxJsonDepth) {
      error = current_.empty() ? std::string("header JSON is nested too deeply")
                               : "tensor '" + current_ +
                                     "': nested too deeply (shape and data_offsets must be flat lists of integers)";
      return false;
    }
    return true;
  }
  bool leave() {
    --depth_;
    return true;
  }

  int depth_ = 0;
  std::string current_;  // the tensor being read
  std::set<std::string> top_level_keys_;
  std::set<std::string> fields_;
};

bool read_u64(const nlohmann::ordered_json& v, uint64_t& out) {
  if (!v.is_number_integer()) return false;
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return true;
  }
  int64_t s = v.get<int64_t>();
  if (s < 0) return false;
  out = static_cast<uint64_t>(s);
  return true;
}

}  // namespace

int64_t TensorEntry::element_count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Result<SafetensorsLayout> parse_safetensors(std::span<const uint8_t> file_bytes,
                                            std::string_view label) {
  const std::string where(label);
  auto fail = [&](const std::string& why) { return make_error(where + ": " + why); };
  if (file_bytes.size() < 8)
    return fail("truncated: " + std::to_string(file_bytes.size()) +
                " bytes, too short for the 8-byte header length");
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | file_bytes[static_cast<size_t>(i)];
  if (header_bytes > kMaxSafetensorsHeaderBytes)
    return fail("header length " + std::to_string(header_bytes) + " exceeds the limit of " +
                std::to_string(kMaxSafetensorsHeaderBytes) + " bytes (not a safetensors file?)");
  if (header_bytes > file_bytes.size() - 8)
    return fail("truncated: header claims " + std::to_string(header_bytes) + " bytes but only " +
                std::to_string(file_bytes.size() - 8) + " follow");

  SafetensorsLayout layout;
  layout.header_bytes = header_bytes;
  layout.data_offset = 8 + header_bytes;
  const uint64_t data_bytes = file_bytes.size() - layout.data_offset;
  const char* text = reinterpret_cast<const char*>(file_bytes.data() + 8);

  HeaderShapeCheck check;
  if (!json::sax_parse(text, text + header_bytes, &check, json::input_format_t::json, true))
    return fail(check.error.empty() ? "header is not valid JSON" : check.error);
  // ordered_json keeps the header's order of tensors.
  nlohmann::ordered_json header = nlohmann::ordered_json::parse(text, text + header_bytes, nullptr, false);
  if (header.is_discarded()) return fail("header is not valid JSON");
  if (!header.is_object()) return fail("header must be a JSON object");

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& value = it.value();
    if (name == "__metadata__") {
      if (!value.is_object()) return fail("__metadata__ must be an object of strings");
      for (auto m = value.begin(); m != value.end(); ++m) {
        if (!m.value().is_string())
          return fail("__metadata__ entry '" + m.key() + "' must be a string");
        layout.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string tensor = "tensor '" + name + "': ";
    if (name.empty() || name.size() > kMaxTensorNameBytes)
      return fail("tensor name must be 1 to " + std::to_string(kMaxTensorNameBytes) + " bytes");
    if (!value.is_object()) return fail(tensor + "description must be an object");
    for (auto f = value.begin(); f != value.end(); ++f)
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets")
        return fail(tensor + "unknown field '" + f.key() + "'");

    TensorEntry entry;
    entry.name = name;
    auto dtype_it = value.find("dtype");
    if (dtype_it == value.end() || !dtype_it->is_string()) return fail(tensor + "missing dtype");
    auto dtype = dtype_from_name(dtype_it->get<std::string>());
    if (!dtype) return fail(tensor + "unknown dtype '" + dtype_it->get<std::string>() + "'");
    entry.dtype = *dtype;

    auto shape_it = value.find("shape");
    if (shape_it == value.end() || !shape_it->is_array()) return fail(tensor + "missing shape");
    if (shape_it->size() > kMaxTensorRank) return fail(tensor + "rank " + std::to_string(shape_it->size()) + " is too large");
    uint64_t byte_count = static_cast<uint64_t>(dtype_size_bytes(entry.dtype));
    for (const auto& d : *shape_it) {
      uint64_t dim = 0;
      if (!read_u64(d, dim)) return fail(tensor + "shape entries must be non-negative integers");
      if (dim > (uint64_t{1} << 62)) return fail(tensor + "dimension " + std::to_string(dim) + " is too large");
      if (dim != 0 && byte_count > (uint64_t{1} << 62) / dim)
        return fail(tensor + "shape describes more bytes than any file can hold");
      byte_count *= dim;
      entry.shape.push_back(static_cast<int64_t>(dim));
    }

    auto offsets_it = value.find("data_offsets");
    if (offsets_it == value.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
        !read_u64((*offsets_it)[0], entry.data_begin) || !read_u64((*offsets_it)[1], entry.data_end))
      return fail(tensor + "data_offsets must be [begin, end] with non-negative integers");
    if (entry.data_begin > entry.data_end)
      return fail(tensor + "data_offsets begin " + std::to_string(entry.data_begin) + " is after end " +
                  std::to_string(entry.data_end));
    if (entry.data_end > data_bytes)
      return fail(tensor + "data_offsets end " + std::to_string(entry.data_end) +
                  " is past the end of the data section (" + std::to_string(data_bytes) +
                  " bytes): file truncated?");
    if (entry.byte_count() != byte_count)
      return fail(tensor + "shape x dtype size is " + std::to_string(byte_count) + " bytes but data_offsets span " +
                  std::to_string(entry.byte_count()));
    layout.tensors.push_back(std::move(entry));
  }

  // The tensors must tile the data section: sorted by offset, each begins
  // where the previous ended, and the last ends at the end of the file.
  std::vector<const TensorEntry*> by_offset;
  for (const auto& t : layout.tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorEntry* a, const TensorEntry* b) {
    return a->data_begin != b->data_begin ? a->data_begin < b->data_begin : a->data_end < b->data_end;
  });
  uint64_t cursor = 0;
  const TensorEntry* previous = nullptr;
  for (const TensorEntry* t : by_offset) {
    if (t->data_begin < cursor)
      return fail("tensor '" + t->name + "' overlaps tensor '" + previous->name + "' (bytes " +
                  std::to_string(t->data_begin) + ".." + std::to_string(cursor) + ")");
    if (t->data_begin > cursor)
      return fail("bytes " + std::to_string(cursor) + ".." + std::to_string(t->data_begin) +
                  " of the data section belong to no tensor (before tensor '" + t->name + "')");
    cursor = t->data_end;
    previous = t;
  }
  if (cursor != data_bytes)
    return fail(std::to_string(data_bytes - cursor) + " bytes after the last tensor belong to no tensor");
  return layout;
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.error();
  auto layout = parse_safetensors(mapped->bytes(), path);
  if (!layout) return layout.error();
  SafetensorsFile file;
  file.file_ = std::move(mapped).value();
  file.layout_ = std::move(layout).value();
  return file;
}

TensorView SafetensorsFile::view(const TensorEntry& entry) const {
  return {&entry, file_.bytes().subspan(layout_.data_offset + entry.data_begin, entry.byte_count()),
          &file_.path()};
}

}  // namespace beluga
