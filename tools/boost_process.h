// The one place beluga includes Boost.Process (v1, Boost 1.74).
//
// Boost 1.74's Asio (pulled in by Boost.Process) fails to compile under
// C++20 with GCC 12 ('exchange' is not a member of 'std') unless <utility>
// is included first (BUILD-NOTES.md, gotcha 1). Include this header, never
// <boost/process.hpp> directly, and only from .cpp files: the Boost headers
// cost seconds per translation unit and must stay out of widely included
// headers.
#pragma once

#include <utility>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
