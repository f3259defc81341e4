// Counter-based random numbers: value i of stream s under seed k is a pure function of
// (k, s, i), so generation can be split across threads and stays reproducible.
#pragma once

#include <cmath>
#include <cstdint>

namespace trinity {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Uniform in (0, 1).
inline double counter_uniform(uint64_t seed, uint64_t stream, uint64_t i) {
  uint64_t r = splitmix64(splitmix64(seed * 0x632be59bd9b4e019ull + stream) + i);
  return (static_cast<double>(r >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

// Standard normal via Box-Muller on two counter uniforms.
inline double counter_normal(uint64_t seed, uint64_t stream, uint64_t i) {
  const double u1 = counter_uniform(seed, stream, 2 * i),
               u2 = counter_uniform(seed, stream, 2 * i + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace trinity
