#include "engine/model/checkpoint_files.h"

#include <sys/stat.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/base/files.h"

namespace beluga {
namespace {

using nlohmann::json;

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

// Parses model.safetensors.index.json into tensor -> shard file name.
Result<std::map<std::string, std::string>> read_index(const std::string& path) {
  auto text = read_text_file(path, 256u << 20);
  if (!text) return text.error();
  json index = json::parse(*text, nullptr, false);
  if (index.is_discarded() || !index.is_object()) return make_error(path + ": not a JSON object");
  auto map_it = index.find("weight_map");
  if (map_it == index.end() || !map_it->is_object())
    return make_error(path + ": missing object 'weight_map'");
  std::map<std::string, std::string> weight_map;
  for (auto it = map_it->begin(); it != map_it->end(); ++it) {
    if (!it.value().is_string())
      return make_error(path + ": weight_map entry '" + it.key() + "' must name a shard file");
    std::string shard = it.value().get<std::string>();
    if (!is_plain_file_name(shard))
      return make_error(path + ": weight_map entry '" + it.key() + "' names '" + shard +
                        "', which is not a plain file name in the checkpoint folder");
    weight_map[it.key()] = std::move(shard);
  }
  if (weight_map.empty()) return make_error(path + ": weight_map is empty");
  return weight_map;
}

}  // namespace

Result<CheckpointFiles> CheckpointFiles::open(const std::string& path) {
  CheckpointFiles checkpoint;
  auto add_file = [&](const std::string& file_path) -> Status {
    auto file = SafetensorsFile::open(file_path);
    if (!file) return file.error();
    checkpoint.files_.push_back(std::make_unique<SafetensorsFile>(std::move(file).value()));
    const SafetensorsFile& added = *checkpoint.files_.back();
    for (const auto& entry : added.tensors()) {
      auto [it, inserted] = checkpoint.by_name_.emplace(entry.name, added.view(entry));
      if (!inserted)
        return make_error("tensor '" + entry.name + "' is in both " + *it->second.file + " and " + file_path);
    }
    return {};
  };

  if (!is_directory(path)) {
    if (!exists(path)) return make_error(path + ": no such checkpoint folder or file");
    if (Status s = add_file(path); !s) return s.error();
    return checkpoint;
  }

  const std::string index_path = path + "/" + std::string(kIndexFileName);
  if (!exists(index_path)) {
    const std::string single = path + "/" + std::string(kSingleFileName);
    if (!exists(single))
      return make_error(path + ": holds neither " + std::string(kIndexFileName) + " nor " +
                        std::string(kSingleFileName));
    if (Status s = add_file(single); !s) return s.error();
    return checkpoint;
  }

  auto weight_map = read_index(index_path);
  if (!weight_map) return weight_map.error();
  std::map<std::string, std::vector<const std::string*>> tensors_by_shard;
  for (const auto& [tensor, shard] : *weight_map) tensors_by_shard[shard].push_back(&tensor);
  for (const auto& [shard, tensors] : tensors_by_shard) {
    const std::string shard_path = path + "/" + shard;
    if (!exists(shard_path))
      return make_error(index_path + ": shard '" + shard + "' (holding '" + *tensors.front() + "' and " +
                        std::to_string(tensors.size() - 1) + " more tensors) is missing");
    if (Status s = add_file(shard_path); !s) return s.error();
    const SafetensorsFile& file = *checkpoint.files_.back();
    std::set<std::string_view> listed;
    for (const std::string* t : tensors) listed.insert(*t);
    for (const auto& entry : file.tensors())
      if (!listed.count(entry.name))
        return make_error(shard_path + ": holds tensor '" + entry.name + "', which the index " +
                          (weight_map->count(entry.name) ? "assigns to shard '" + weight_map->at(entry.name) + "'"
                                                         : std::string("does not list")));
    for (const std::string* t : tensors)
      if (!checkpoint.by_name_.count(*t))
        return make_error(index_path + ": lists tensor '" + *t + "' in shard '" + shard + "', which does not hold it");
  }
  return checkpoint;
}

std::optional<TensorView> CheckpointFiles::find(std::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::vector<TensorView> CheckpointFiles::all_tensors() const {
  std::vector<TensorView> views;
  views.reserve(by_name_.size());
  for (const auto& file : files_)
    for (const auto& entry : file->tensors()) views.push_back(file->view(entry));
  return views;
}

uint64_t CheckpointFiles::total_bytes() const {
  uint64_t total = 0;
  for (const auto& file : files_)
    for (const auto& entry : file->tensors()) total += entry.byte_count();
  return total;
}

}  // namespace beluga
