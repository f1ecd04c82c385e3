// The one way this project includes Boost.Asio. Boost 1.74's Asio uses
// std::exchange without including <utility> (fails with GCC 12 in C++20),
// so <utility> comes first. Include this only from .cpp files: Asio is
// heavy, and CI builds on two cores.
#pragma once

#include <utility>

#include <boost/asio.hpp>
