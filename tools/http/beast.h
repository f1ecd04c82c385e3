// The one way beluga includes Boost.Beast (tools/http, daemon/http, the
// tests' HTTP peers). Boost 1.74's Asio uses std::exchange without
// including <utility> (fails with GCC 12 in C++20), so <utility> comes
// first, as in daemon/rpc/asio.h for the JSON-RPC transport. Include this
// only from .cpp files: Asio and Beast are heavy, and CI builds on two cores.
#pragma once

#include <utility>

// GCC 12 reports -Wmaybe-uninitialized inside Beast's parser (a
// boost::optional returned empty) when it inlines deeply, as in the
// sanitizer build: a false positive in Boost's code, silenced here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop

// TLS (OpenSSL) only where it is linked: BELUGA_HTTP_TLS before the include.
#ifdef BELUGA_HTTP_TLS
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#endif
