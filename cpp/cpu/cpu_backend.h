// cpu_backend.h -- the CPU backend's entry in the backend registry (registry.h). Always built,
// always available; the reference every other backend is tested against.
#pragma once

#include "backend.h"

namespace bl {

const Backend& cpu_backend();

}  // namespace bl
