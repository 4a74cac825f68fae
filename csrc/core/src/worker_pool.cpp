#include "worker_pool.h"

#include <exception>

namespace gazehead {

WorkerPool::WorkerPool(int workers) : workers_(workers < 1 ? 1 : workers) {
  for (int w = 1; w < workers_; ++w) threads_.emplace_back(&WorkerPool::loop, this, w);
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::run(Job job, void* ctx) {
  if (workers_ == 1) {
    job(ctx, 0);
    return;
  }
  // Without this, a second caller would overwrite job_/ctx_/remaining_ while workers run the
  // first job, and the first caller could return while a worker still used its stack frame.
  std::lock_guard<std::mutex> serial(run_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = job;
    ctx_ = ctx;
    remaining_ = workers_ - 1;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  std::exception_ptr mine;
  try {
    job(ctx, 0);
  } catch (...) {
    mine = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [this] { return remaining_ == 0; });
  if (mine) std::rethrow_exception(mine);
  if (error_) std::rethrow_exception(error_);
}

void WorkerPool::loop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    Job job;
    void* ctx;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
      ctx = ctx_;
    }
    std::exception_ptr err;
    try {
      job(ctx, worker);
    } catch (...) {
      err = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (err && !error_) error_ = err;
      if (--remaining_ == 0) done_.notify_one();
    }
  }
}

}  // namespace gazehead
