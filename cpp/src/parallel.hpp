// eigennet's own worker threads, for the products (product.hpp) and the updater steps.
//
// Work is a sequence of phases, each a number of independent items; no item of a phase starts
// before every item of the phases before it has finished (a product packs its shared operand in one
// phase and runs the kernel on blocks of the output in the next). The calling thread and the
// workers take items one at a time from a shared counter. The caller never waits for a worker that
// has not started: it waits only for items a thread has taken. OpenMP's teams, by contrast, wait at
// every barrier for every thread of the team, so a worker that has not been given a core yet (another
// library's threads spinning on it, a busy machine) held every product up by up to a scheduler time
// slice, even though the caller could have done all the work itself.
//
// Which thread runs an item never changes what it computes, so results do not depend on the thread
// count. Work runs with the caller's denormal flushing (FTZ/DAZ) in every thread. An exception
// from an item is rethrown to the caller once every taken item has finished (the other items still
// run). A second caller that finds the workers busy (another Python thread predicting) runs its
// work alone on its own thread; after fork() the child starts new workers when it first needs them.
#pragma once

#include <type_traits>
#include <utility>

#include "eigennet/types.hpp"

namespace eigennet {

// A non-owning reference to a callable, so that passing a lambda never allocates.
template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT: implicit, like std::function
      : object_(const_cast<void*>(static_cast<const void*>(&f))), call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

// Runs run(phase, item) for item in [0, items(phase)) for every phase in [0, phases), in phase
// order as above, on up to `threads` threads (the caller included). items(phase) may be 0.
void parallel_phases(int threads, int phases, FunctionRef<Index(int)> items, FunctionRef<void(int, Index)> run);

// One phase: run(item) for item in [0, items).
inline void parallel_for(int threads, Index items, FunctionRef<void(Index)> run) {
  auto count = [items](int) { return items; };
  auto one = [&run](int, Index item) { run(item); };
  parallel_phases(threads, 1, count, one);
}

}  // namespace eigennet
