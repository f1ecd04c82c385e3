// The registration point of the HTTP serving formats: one line per API.
#include "daemon/http/anthropic_messages.h"
#include "daemon/http/chat_service.h"
#include "daemon/http/openai_chat.h"
#include "daemon/http/openai_responses.h"

namespace beluga::daemon::http {

std::vector<std::unique_ptr<ApiFormat>> api_formats() {
  std::vector<std::unique_ptr<ApiFormat>> formats;
  formats.push_back(make_openai_chat_format());     // POST /v1/chat/completions
  formats.push_back(anthropic_messages_format());   // POST /v1/messages
  formats.push_back(openai_responses_format());     // POST /v1/responses
  return formats;
}

}  // namespace beluga::daemon::http
