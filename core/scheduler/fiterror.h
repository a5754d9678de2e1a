#pragma once
// Why a pod fits no node, worded exactly as kube-scheduler's FitError.Error():
//
//   0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: ...
//
// Every reason of every rejected node is counted, "count reason" strings are sorted as
// strings (so "10 x" sorts before "2 y", as in Go), joined by ", ". A PreFilter rejection
// replaces the per-node histogram; the PostFilter (preemption) message follows.

#include "status.h"

#include <string>
#include <vector>

namespace podscape::core::scheduler {

struct FitError {
    int numAllNodes = 0;
    std::string preFilterMessage;
    std::vector<Status> nodeStatuses; // one per rejected node
    std::string postFilterMessage;    // already ends with its own period

    std::string message() const;
    // "1 node(s) were unschedulable, 2 Insufficient cpu": the sorted reason histogram.
    static std::string histogram(const std::vector<Status> &statuses);
};

} // namespace podscape::core::scheduler
