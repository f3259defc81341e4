// Versioned schema migrations of the run store. The pending migrations are applied once, in
// order, in one transaction that also records each in schema_migrations. Concurrent replicas
// are serialized: PostgreSQL takes a transaction-scoped advisory lock before anything else, SQLite
// a write transaction (BEGIN IMMEDIATE); a replica that waited then sees the versions recorded
// and applies nothing.
#pragma once

#include <string>
#include <vector>

#include "store/sql.h"

namespace trinity::store {

struct Migration {
  int version;
  std::string name;
  std::vector<std::string> statements;  // common SQL subset of SQLite and PostgreSQL
};

const std::vector<Migration>& migrations();
int latest_schema_version();

// Applies every migration not yet recorded. A database newer than this binary (a version we
// do not know) is an error: an old replica must not write to a schema it does not understand.
Status migrate(SqlConnection& conn);

}  // namespace trinity::store
