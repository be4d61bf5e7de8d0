// GEMM probe: the matrix products of one W1 / W3 training step and one W1 batch-32 prediction,
// timed with eigennet's own product path (cpp/src/product.hpp over Eigen) or with the SGEMM of a
// BLAS library named on the command line (loaded with dlopen, so nothing here links a BLAS). One
// backend per process: a BLAS's threads spin after a call, which would steal a core from whatever
// ran next in the same process.
//
// Built and run by benchmarks/gemm_probe.py, which finds the BLAS libraries and records the table.
// Usage: gemm_probe <threads> <repeats> [<label>=<library path>:<sgemm symbol>[:<set-threads symbol>]]
// Prints, per product, the seconds of each timed repeat.
// A symbol ending in '_' is taken as the Fortran interface (sgemm_), any other as cblas_sgemm's.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "eigennet/threads.hpp"
#include "product.hpp"

using eigennet::Index;
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;

namespace {

// One product of a step, in eigennet's layout (features x batch, column-major):
// C (m x n) = op(A) op(B), op = transpose when the flag is set, inner dimension k.
struct Product {
  const char* what;
  Index m, n, k;
  bool transpose_a, transpose_b;
};

struct Workload {
  const char* name;
  std::vector<Product> products;
};

// The products a Dense layer runs: forward z = W a, backward dW = dz a^T and (above the first
// layer) da = W^T dz.
Workload training_step(const char* name, const std::vector<Index>& sizes, Index batch) {
  Workload w{name, {}};
  for (size_t l = 0; l + 1 < sizes.size(); ++l) w.products.push_back({"forward", sizes[l + 1], batch, sizes[l], false, false});
  for (size_t l = sizes.size() - 1; l-- > 0;) {
    w.products.push_back({"weight gradient", sizes[l + 1], sizes[l], batch, false, true});
    if (l > 0) w.products.push_back({"input gradient", sizes[l], batch, sizes[l + 1], true, false});
  }
  return w;
}

Workload prediction(const char* name, const std::vector<Index>& sizes, Index batch) {
  Workload w{name, {}};
  for (size_t l = 0; l + 1 < sizes.size(); ++l) w.products.push_back({"forward", sizes[l + 1], batch, sizes[l], false, false});
  return w;
}

enum CblasLayout { kColMajor = 102 };
enum CblasTranspose { kNoTrans = 111, kTrans = 112 };
using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                       float*, int);
// The Fortran interface (symbols ending in '_'), for libraries that export only that one.
using FortranSgemm = void (*)(const char*, const char*, const int*, const int*, const int*, const float*,
                              const float*, const int*, const float*, const int*, const float*, float*, const int*);
using SetThreads = void (*)(int);

struct Operands {
  Matrix a, b, c;
};

struct Backend {
  std::string label;
  Sgemm sgemm = nullptr;  // both null: eigennet's multiply()
  FortranSgemm fortran_sgemm = nullptr;
};

void run_product(const Backend& backend, const Product& p, Operands& x) {
  if (backend.fortran_sgemm) {
    const int m = int(p.m), n = int(p.n), k = int(p.k), lda = int(x.a.rows()), ldb = int(x.b.rows()),
              ldc = int(x.c.rows());
    const float one = 1.0f, zero = 0.0f;
    backend.fortran_sgemm(p.transpose_a ? "T" : "N", p.transpose_b ? "T" : "N", &m, &n, &k, &one, x.a.data(), &lda,
                          x.b.data(), &ldb, &zero, x.c.data(), &ldc);
    return;
  }
  if (backend.sgemm) {
    backend.sgemm(kColMajor, p.transpose_a ? kTrans : kNoTrans, p.transpose_b ? kTrans : kNoTrans, int(p.m), int(p.n),
                  int(p.k), 1.0f, x.a.data(), int(x.a.rows()), x.b.data(), int(x.b.rows()), 0.0f, x.c.data(),
                  int(x.c.rows()));
    return;
  }
  if (p.transpose_a && !p.transpose_b)
    eigennet::multiply(x.c, x.a.transpose(), x.b);
  else if (!p.transpose_a && p.transpose_b)
    eigennet::multiply(x.c, x.a, x.b.transpose());
  else
    eigennet::multiply(x.c, x.a, x.b);
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s threads repeats [label=library:sgemm[:set_threads]]\n", argv[0]);
    return 2;
  }
  const int threads = std::atoi(argv[1]);
  const int repeats = std::atoi(argv[2]);
  eigennet::set_num_threads(threads);

  std::vector<Backend> backends{{"eigennet", nullptr}};
  if (argc > 3) {
    std::string spec = argv[3];
    const auto eq = spec.find('=');
    std::vector<std::string> parts;
    for (size_t start = eq + 1;;) {
      const auto colon = spec.find(':', start);
      parts.push_back(spec.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    void* library = dlopen(parts[0].c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      std::fprintf(stderr, "cannot load %s: %s\n", parts[0].c_str(), dlerror());
      return 1;
    }
    Backend backend{spec.substr(0, eq)};
    void* symbol = dlsym(library, parts[1].c_str());
    if (parts[1].back() == '_')
      backend.fortran_sgemm = reinterpret_cast<FortranSgemm>(symbol);
    else
      backend.sgemm = reinterpret_cast<Sgemm>(symbol);
    if (!symbol) {
      std::fprintf(stderr, "%s has no %s\n", parts[0].c_str(), parts[1].c_str());
      return 1;
    }
    if (parts.size() > 2) {
      auto set_threads = reinterpret_cast<SetThreads>(dlsym(library, parts[2].c_str()));
      if (set_threads) set_threads(threads);
    }
    backends.push_back(backend);
  }

  const std::vector<Workload> workloads{
      training_step("W1 step 784-512-256-10 b128", {784, 512, 256, 10}, 128),
      training_step("W3 step 784-2048-2048-10 b256", {784, 2048, 2048, 10}, 256),
      prediction("W1 predict b32", {784, 512, 256, 10}, 32),
  };
  std::srand(1);
  // Columns: workload, product, m, n, k, the backend timed, then the seconds per call of each repeat.
  const Backend& timed = backends.back();
  for (const auto& workload : workloads) {
    for (const auto& p : workload.products) {
      Operands x;
      x.a = Matrix::Random(p.transpose_a ? p.k : p.m, p.transpose_a ? p.m : p.k);
      x.b = Matrix::Random(p.transpose_b ? p.n : p.k, p.transpose_b ? p.k : p.n);
      x.c = Matrix::Zero(p.m, p.n);
      Matrix reference;
      std::printf("%s\t%s\t%ld\t%ld\t%ld", workload.name, p.what, long(p.m), long(p.n), long(p.k));
      // Enough calls per sample for about 20 ms, so timer and wake-up noise stay small.
      const double flops = 2.0 * double(p.m) * double(p.n) * double(p.k);
      const int calls = std::max(1, int(20e-3 * 50e9 * threads / flops));
      for (const auto& backend : backends) {
        run_product(backend, p, x);  // warm-up, and the check against eigennet's result
        if (reference.size() == 0)
          reference = x.c;
        else if (!x.c.isApprox(reference, 1e-4f)) {
          std::fprintf(stderr, "%s disagrees with eigennet on %s %s\n", backend.label.c_str(), workload.name, p.what);
          return 1;
        }
      }
      std::printf("\t%s", timed.label.c_str());
      for (int r = 0; r < repeats; ++r) {
        const double start = now();
        for (int c = 0; c < calls; ++c) run_product(timed, p, x);
        std::printf("\t%.9f", (now() - start) / calls);
      }
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  return 0;
}
