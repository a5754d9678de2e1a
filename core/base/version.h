#pragma once
// The product version, set by CMake from project(VERSION ...).

#ifndef PODSCAPE_VERSION
#define PODSCAPE_VERSION "0.0.0"
#endif

namespace podscape::core {
inline constexpr const char *kVersion = PODSCAPE_VERSION;
} // namespace podscape::core
