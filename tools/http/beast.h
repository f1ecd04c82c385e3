// The one way tools/http includes Boost.Asio and Boost.Beast. Boost 1.74's
// Asio uses std::exchange without including <utility> (fails with GCC 12 in
// C++20), so <utility> comes first; daemon/rpc/asio.h does the same for the
// daemon (tools/ cannot include daemon/). Include this only from .cpp files:
// Asio and Beast are heavy, and CI builds on two cores.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

// TLS (OpenSSL) only where it is linked: BELUGA_HTTP_TLS before the include.
#ifdef BELUGA_HTTP_TLS
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#endif
