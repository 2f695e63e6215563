// cpu_path.h -- the CPU code paths (values of bl_cpu_path) and which of them this build and
// machine can run. The path in use is a setting of each execution context (context.h), read at
// the start of every execute call; nothing here is global state but the cached detection.
#pragma once

namespace bl {

// Built in and the machine (CPU and OS state saving) has the ISA.
bool cpu_path_supported(int path);
// The best supported path (detected once).
int cpu_path_best();
// A user-facing name ("AVX2 + FMA"), for messages.
const char* cpu_path_name(int path);

}  // namespace bl
