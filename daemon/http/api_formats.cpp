// The registration point of the HTTP serving formats: one line per API.
#include "daemon/http/chat_service.h"
#include "daemon/http/openai_chat.h"

namespace beluga::daemon::http {

std::vector<std::unique_ptr<ApiFormat>> api_formats() {
  std::vector<std::unique_ptr<ApiFormat>> formats;
  formats.push_back(make_openai_chat_format());  // POST /v1/chat/completions
  return formats;
}

}  // namespace beluga::daemon::http
