// The Content-Length framing (lsp/framing.h): whole and split frames, and
// every kind of bad header skipped without losing the frames after it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lsp/framing.h"

using namespace beluga::lsp;

namespace {

std::vector<FrameEvent> drain(FrameReader& reader) {
  std::vector<FrameEvent> events;
  while (auto e = reader.next()) events.push_back(std::move(*e));
  return events;
}

}  // namespace

TEST_CASE("frames are read whole and split at every byte") {
  const std::string one = R"({"jsonrpc":"2.0","id":1,"method":"a"})";
  const std::string two = "{\"x\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}";
  const std::string stream = encode_frame(one) + "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n" +
                             encode_frame(two).substr(0) ;
  // The second frame carries a Content-Type header before its Content-Length.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameReader reader;
    reader.feed(stream.substr(0, cut));
    reader.feed(stream.substr(cut));
    auto events = drain(reader);
    REQUIRE(events.size() == 2);
    CHECK(events[0].ok);
    CHECK(events[0].body == one);
    CHECK(events[1].ok);
    CHECK(events[1].body == two);
  }
}

TEST_CASE("a byte at a time and bare newlines and any header case are accepted") {
  const std::string stream = "content-length: 2\n\n{}CONTENT-LENGTH:3\r\n\r\n[1]";
  FrameReader reader;
  for (char c : stream) reader.feed(std::string(1, c));
  auto events = drain(reader);
  REQUIRE(events.size() == 2);
  CHECK(events[0].body == "{}");
  CHECK(events[1].body == "[1]");
}

TEST_CASE("a bad Content-Length is reported and the next frame still arrives") {
  for (const std::string bad : {"Content-Length: abc\r\n\r\n{}", "Content-Length: -5\r\n\r\n{}",
                                "Content-Length: 99999999999999999999999\r\n\r\n{}", "Content-Type: x\r\n\r\n{}",
                                "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", "garbage line\r\n\r\n{}"}) {
    INFO(bad);
    FrameReader reader;
    reader.feed(bad + encode_frame("{\"ok\":1}"));
    auto events = drain(reader);
    REQUIRE(events.size() == 2);
    CHECK_FALSE(events[0].ok);
    CHECK_FALSE(events[0].error.empty());
    CHECK(events[1].ok);
    CHECK(events[1].body == "{\"ok\":1}");
  }
}

TEST_CASE("a body over the limit is skipped as it arrives") {
  FrameLimits limits;
  limits.max_body_bytes = 16;
  FrameReader reader(limits);
  const std::string big(1000, 'x');
  reader.feed("Content-Length: 1000\r\n\r\n");
  for (size_t i = 0; i < big.size(); i += 100) {
    reader.feed(big.substr(i, 100));
    CHECK(reader.buffered_bytes() <= 100);
  }
  reader.feed(encode_frame("{}"));
  auto events = drain(reader);
  REQUIRE(events.size() == 2);
  CHECK_FALSE(events[0].ok);
  CHECK(events[0].error.find("larger than the limit") != std::string::npos);
  CHECK(events[1].body == "{}");
}

TEST_CASE("a header block that never ends is bounded and then resynchronised") {
  FrameLimits limits;
  limits.max_header_bytes = 64;
  FrameReader reader(limits);
  reader.feed(std::string(500, 'h'));
  CHECK(reader.buffered_bytes() <= 64 + 8);
  reader.feed(encode_frame("{\"after\":true}"));
  auto events = drain(reader);
  REQUIRE(events.size() >= 2);
  CHECK_FALSE(events.front().ok);
  CHECK(events.back().ok);
  CHECK(events.back().body == "{\"after\":true}");
}

TEST_CASE("an empty body is a frame") {
  FrameReader reader;
  reader.feed("Content-Length: 0\r\n\r\n");
  auto events = drain(reader);
  REQUIRE(events.size() == 1);
  CHECK(events[0].ok);
  CHECK(events[0].body.empty());
}
