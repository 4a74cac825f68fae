// CUDA_CHECK: every runtime call is checked; a failure throws gazehead::CudaError carrying the
// call, file:line and the CUDA error string. Include only from .cu files.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "cuda_generator.h"

namespace gazehead {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* call, const char* file,
                                          int line) {
  throw CudaError(std::string("CUDA error ") + cudaGetErrorName(err) + " (" +
                  cudaGetErrorString(err) + ") in " + call + " at " + file + ":" +
                  std::to_string(line));
}

}  // namespace gazehead

#define CUDA_CHECK(call)                                                \
  do {                                                                  \
    const cudaError_t gh_err_ = (call);                                 \
    if (gh_err_ != cudaSuccess) {                                       \
      ::gazehead::throw_cuda_error(gh_err_, #call, __FILE__, __LINE__); \
    }                                                                   \
  } while (0)

// After a kernel launch: configuration errors surface here, execution errors at the next sync.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
