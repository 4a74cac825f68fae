// Internal: a fixed set of threads that run one job at a time over worker indices. The caller
// is worker 0 and takes part, so a pool of 1 starts no thread. A job is a plain function
// pointer and a context pointer: dispatching allocates nothing (the step must not allocate).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace gazehead {

class WorkerPool {
 public:
  using Job = void (*)(void* ctx, int worker);

  explicit WorkerPool(int workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int size() const { return workers_; }
  // Runs job(ctx, w) for w = 0..size()-1 (w = 0 on the calling thread) and returns when all
  // are done. The first exception thrown by any worker is rethrown here. Safe from several
  // threads at once: callers are serialized (one job at a time); a job must not call run().
  void run(Job job, void* ctx);

 private:
  void loop(int worker);

  int workers_;
  std::vector<std::thread> threads_;
  std::mutex run_mu_;  // held by the caller for a whole job
  std::mutex mu_;
  std::condition_variable wake_, done_;
  Job job_ = nullptr;
  void* ctx_ = nullptr;
  uint64_t generation_ = 0;  // bumped per job; a worker runs each generation once
  int remaining_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace gazehead
