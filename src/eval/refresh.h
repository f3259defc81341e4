// Refreshing the expectations of a cases file and writing snapshots from an eval run
// (`--snapshot-out`, `--write-expected`): how a new artifact's routes become the reference.
#pragma once

#include "eval/cases.h"
#include "eval/runner.h"
#include "eval/snapshot.h"

namespace trinity::eval {

// A snapshot of every case of the run (in run order), generated_at = now.
Snapshot snapshot_from_run(const EvalRun& run);

// `file` with `expected` of each case of the run set to its returned route; cases not in the
// run keep theirs. Everything else (order, tags, notes, extra keys) is kept.
CasesFile with_returned_expectations(const CasesFile& file, const EvalRun& run);

}  // namespace trinity::eval
