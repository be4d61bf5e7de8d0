#include "parallel.hpp"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>

#include "denormals.hpp"

namespace eigennet {

namespace {

#ifdef EIGENNET_HAVE_MXCSR
inline void cpu_relax() { _mm_pause(); }
#else
inline void cpu_relax() {}
#endif

// How long an idle worker keeps polling for work before it sleeps: longer than the gaps between the
// products of a training step (bias, activation and loss passes), short enough that an idle
// library hands its cores back to other processes at once.
constexpr auto kWorkerSpin = std::chrono::microseconds(50);

// Spins until ready() holds; yields the core now and then, in case the thread being waited for
// shares it.
template <typename Ready>
void wait_until(Ready ready) {
  for (unsigned spins = 1; !ready(); ++spins) {
    cpu_relax();
    if (spins % 4096 == 0) std::this_thread::yield();
  }
}

struct Job {
  Job(int phases, FunctionRef<Index(int)> items, FunctionRef<void(int, Index)> run, int helpers)
      : phases(phases), items(items), run(run), helpers(helpers), flush(denormal_flush_bits()) {
    for (int p = 0; p < phases; ++p) total += items(p);
  }

  // Takes items until none is left.
  void work() {
    int phase = 0;
    Index phase_begin = 0, phase_end = items(0);
    for (;;) {
      const Index ticket = next.fetch_add(1, std::memory_order_relaxed);
      if (ticket >= total) return;
      while (ticket >= phase_end) {
        phase_begin = phase_end;
        phase_end += items(++phase);
      }
      // Every ticket below this phase was taken by a thread that is running it, so this ends.
      if (done.load(std::memory_order_acquire) < phase_begin)
        wait_until([&] { return done.load(std::memory_order_acquire) >= phase_begin; });
      try {
        run(phase, ticket - phase_begin);
      } catch (...) {
        // Kept for the caller to rethrow once no thread is left working (a worker cannot throw).
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
      done.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  const int phases;
  const FunctionRef<Index(int)> items;
  const FunctionRef<void(int, Index)> run;
  const int helpers;     // workers allowed to join: the thread count asked for, less the caller
  const unsigned flush;  // the caller's FTZ/DAZ bits
  Index total = 0;
  std::atomic<Index> next{0};  // next ticket; tickets number the items of all phases in order
  std::atomic<Index> done{0};  // items finished
  std::atomic<int> joined{0};
  std::mutex error_mutex;
  std::exception_ptr error;  // the first exception an item threw
};

class Pool {
 public:
  // Runs the job on the caller and up to job.helpers workers; false when another caller is using
  // the workers (the caller then runs the job alone).
  bool run(Job& job) {
    if (busy_.exchange(true, std::memory_order_acquire)) return false;
    while (static_cast<int>(started_) < job.helpers && start_worker()) {
    }
    job_.store(&job);
    generation_.fetch_add(1);
    if (sleeping_.load() > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      wake_.notify_all();
    }
    job.work();
    wait_until([&] { return job.done.load(std::memory_order_acquire) == job.total; });
    // A worker that read the job's address may still be about to look at it: wait for those only.
    job_.store(nullptr);
    wait_until([&] { return active_.load() == 0; });
    busy_.store(false, std::memory_order_release);
    return true;
  }

 private:
  // False when the system refuses another thread: the job then runs on the workers there are.
  bool start_worker() {
    try {
      // The generation before the job being published: a worker that starts running only after the
      // publication still takes part in that job.
      std::thread([this, seen = generation_.load()] { loop(seen); }).detach();
    } catch (const std::system_error&) {
      return false;
    }
    ++started_;
    return true;
  }

  void loop(std::uint64_t seen) {
    for (;;) {
      const auto spin_end = std::chrono::steady_clock::now() + kWorkerSpin;
      unsigned spins = 0;
      while (generation_.load() == seen) {
        cpu_relax();
        if (++spins % 256 == 0 && std::chrono::steady_clock::now() > spin_end) {
          std::unique_lock<std::mutex> lock(mutex_);
          sleeping_.fetch_add(1);
          wake_.wait(lock, [&] { return generation_.load() != seen; });
          sleeping_.fetch_sub(1);
          break;
        }
      }
      seen = generation_.load();
      active_.fetch_add(1);
      if (Job* job = job_.load(); job && job->joined.fetch_add(1) < job->helpers) {
        set_denormal_flush_bits(job->flush);
        job->work();
      }
      active_.fetch_sub(1);
    }
  }

  // Sequentially consistent unless stated: publishing a job and a worker's sleeping, like a
  // worker's arrival and the caller's retiring of the job, must not pass each other.
  std::atomic<Job*> job_{nullptr};
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> active_{0};    // workers between reading job_ and being done with that job
  std::atomic<int> sleeping_{0};  // workers blocked on wake_
  std::atomic<bool> busy_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  unsigned started_ = 0;  // only the caller holding busy_ starts workers
};

// The pool of this process. Never destroyed (its workers live as long as the process); a child of
// fork() has none of the parent's threads, so it drops the parent's pool and makes its own.
std::atomic<Pool*> the_pool{nullptr};

void forget_pool_in_child() { the_pool.store(nullptr); }

Pool& pool() {
  Pool* current = the_pool.load(std::memory_order_acquire);
  if (current) return *current;
  static const int registered = pthread_atfork(nullptr, nullptr, forget_pool_in_child);
  (void)registered;
  Pool* fresh = new Pool;
  if (the_pool.compare_exchange_strong(current, fresh, std::memory_order_acq_rel)) return *fresh;
  delete fresh;  // another thread made one first
  return *current;
}

}  // namespace

void parallel_phases(int threads, int phases, FunctionRef<Index(int)> items, FunctionRef<void(int, Index)> run) {
  if (phases <= 0) return;
  Job job(phases, items, run, threads - 1);
  if (job.total == 0) return;
  if (!(threads > 1 && job.total > 1 && pool().run(job))) job.work();
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace eigennet
