// Shared by the CUDA tests: they run where a usable GPU is, and elsewhere
// pass vacuously after saying why (a build without the backend, no device).
#pragma once

#include <catch2/catch.hpp>

#include "engine/cuda/cuda_model.h"

namespace beluga::testing {

inline bool gpu_ready() {
  if (Status s = cuda::device_available(); !s) {
    WARN("CUDA test skipped: " << s.message());
    return false;
  }
  return true;
}

}  // namespace beluga::testing
