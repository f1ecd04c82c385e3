// Device memory and error handling for the CUDA backend (.cu files only).
//
// CUDA failures inside the backend (out of memory, a lost device, a kernel
// fault) throw CudaError; the public entry points (cuda_model.h,
// kernel_check.h) catch it and return it as a Result error, so no caller
// ever sees an exception or a CUDA type.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace beluga::cuda {

struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw CudaError(std::string("CUDA: ") + what + ": " + cudaGetErrorString(status));
}

// Checks that the last kernel launch was accepted (bad configuration etc.).
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// An owned device allocation of `size()` elements of T. Moving transfers
// ownership; copying is not allowed (copies are explicit: copy_from).
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) { allocate(count); }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t bytes() const { return size_ * sizeof(T); }

  // Grows to at least `count` elements; contents are not kept.
  void reserve_discarding(size_t count) {
    if (count > size_) allocate(count);
  }
  // Grows to at least `count` elements, keeping the first size() elements.
  void grow_keeping(size_t count, cudaStream_t stream) {
    if (count <= size_) return;
    DeviceBuffer bigger(count);
    if (size_ > 0) check(cudaMemcpyAsync(bigger.data_, data_, bytes(), cudaMemcpyDeviceToDevice, stream), "grow copy");
    check(cudaStreamSynchronize(stream), "grow sync");
    *this = std::move(bigger);
  }

  void upload(std::span<const T> host, cudaStream_t stream = nullptr) {
    reserve_discarding(host.size());
    if (!host.empty())
      check(cudaMemcpyAsync(data_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice, stream), "upload");
  }
  std::vector<T> download(size_t count, cudaStream_t stream = nullptr) const {
    std::vector<T> host(count);
    if (count > 0) {
      check(cudaMemcpyAsync(host.data(), data_, count * sizeof(T), cudaMemcpyDeviceToHost, stream), "download");
      check(cudaStreamSynchronize(stream), "download sync");
    }
    return host;
  }

 private:
  void allocate(size_t count) {
    release();
    if (count == 0) return;
    void* p = nullptr;
    check(cudaMalloc(&p, count * sizeof(T)), "cudaMalloc");
    data_ = static_cast<T*>(p);
    size_ = count;
  }
  void release() {
    if (data_) cudaFree(data_);
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
};

template <typename T>
DeviceBuffer<T> to_device(std::span<const T> host, cudaStream_t stream = nullptr) {
  DeviceBuffer<T> buffer;
  buffer.upload(host, stream);
  return buffer;
}

}  // namespace beluga::cuda
