#pragma once

namespace core {

// Names the calling thread (at most 15 characters; longer names are cut), so
// its CPU can be told apart in /proc/<pid>/task/*/comm, `top -H` and `perf`:
// the benchmarks read the click flusher's, and the webhook analysis needed
// the SQLite writer's and the dispatcher's (docs/PERFORMANCE.md, Webhooks).
void name_this_thread(const char* name);

}  // namespace core
