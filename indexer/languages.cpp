#include "indexer/languages.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace beluga::indexer {
namespace {

struct Extension {
  std::string_view suffix;  // lower case, with the dot
  Language language;
};

constexpr std::array kExtensions = {
    Extension{".c", Language::kC},
    Extension{".h", Language::kCpp},
    Extension{".cc", Language::kCpp},
    Extension{".cpp", Language::kCpp},
    Extension{".cxx", Language::kCpp},
    Extension{".c++", Language::kCpp},
    Extension{".hh", Language::kCpp},
    Extension{".hpp", Language::kCpp},
    Extension{".hxx", Language::kCpp},
    Extension{".h++", Language::kCpp},
    Extension{".ipp", Language::kCpp},
    Extension{".inl", Language::kCpp},
    Extension{".cu", Language::kCpp},
    Extension{".cuh", Language::kCpp},
    Extension{".py", Language::kPython},
    Extension{".pyi", Language::kPython},
    Extension{".js", Language::kJavaScript},
    Extension{".mjs", Language::kJavaScript},
    Extension{".cjs", Language::kJavaScript},
    Extension{".jsx", Language::kJavaScript},
    Extension{".ts", Language::kTypeScript},
    Extension{".mts", Language::kTypeScript},
    Extension{".cts", Language::kTypeScript},
    Extension{".tsx", Language::kTsx},
    Extension{".go", Language::kGo},
    Extension{".rs", Language::kRust},
    Extension{".java", Language::kJava},
    Extension{".json", Language::kJson},
    Extension{".sh", Language::kBash},
    Extension{".bash", Language::kBash},
};

}  // namespace

std::string_view language_name(Language language) {
  switch (language) {
    case Language::kText: return "text";
    case Language::kC: return "c";
    case Language::kCpp: return "cpp";
    case Language::kPython: return "python";
    case Language::kJavaScript: return "javascript";
    case Language::kTypeScript: return "typescript";
    case Language::kTsx: return "tsx";
    case Language::kGo: return "go";
    case Language::kRust: return "rust";
    case Language::kJava: return "java";
    case Language::kJson: return "json";
    case Language::kBash: return "bash";
  }
  return "text";
}

bool has_tags(Language language) {
  return language != Language::kText && language != Language::kJson && language != Language::kBash;
}

Language language_for_path(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos && dot > 0) {
    std::string suffix(name.substr(dot));
    std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const Extension& e : kExtensions)
      if (e.suffix == suffix) return e.language;
  }
  if (name == ".bashrc" || name == ".bash_profile" || name == ".profile") return Language::kBash;
  return Language::kText;
}

bool is_c_or_cpp_header(std::string_view path) {
  return path.size() > 2 && (path.ends_with(".h") || path.ends_with(".H")) && path[path.size() - 3] != '/';
}

bool looks_like_cpp(std::string_view source) {
  if (source.find("::") != std::string_view::npos) return true;
  for (size_t at = source.find("#include"); at != std::string_view::npos; at = source.find("#include", at + 1)) {
    size_t open = source.find_first_not_of(" \t", at + 8);
    if (open == std::string_view::npos || source[open] != '<') continue;
    size_t close = source.find_first_of(">\n", open);
    if (close == std::string_view::npos || source[close] != '>') continue;
    std::string_view name = source.substr(open + 1, close - open - 1);
    if (!name.empty() && name.find('.') == std::string_view::npos) return true;  // <vector>, <cstdint>
  }
  static constexpr std::string_view kWords[] = {"namespace", "template",  "typename", "class",   "public:",
                                                "private:",  "protected:", "virtual",  "constexpr", "nullptr",
                                                "operator"};
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::string_view word : kWords) {
    for (size_t at = source.find(word); at != std::string_view::npos; at = source.find(word, at + 1)) {
      bool starts = at == 0 || !is_word(source[at - 1]);
      size_t end = at + word.size();
      bool ends = word.back() == ':' || end == source.size() || !is_word(source[end]);
      if (starts && ends) return true;
    }
  }
  return false;
}

}  // namespace beluga::indexer
