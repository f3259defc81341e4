# Every third-party dependency, in one place. All come from Debian 12 packages
# (the package names are listed in scripts/setup.sh).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)        # nlohmann-json3-dev
find_package(OpenSSL REQUIRED)                   # libssl-dev (SHA-256)
find_package(ZLIB REQUIRED)                      # zlib1g-dev (Erlang term compression)
find_package(CURL REQUIRED)                      # libcurl4-openssl-dev (providers, fetch)
find_package(CLI11 REQUIRED)                     # libcli11-dev
find_package(dnnl REQUIRED)                      # libdnnl-dev (oneDNN, AMX bf16 GEMM)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)     # libpcre2-dev
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc) # libutf8proc-dev
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)    # libopenblas-dev (never libblas.so.3)
pkg_check_modules(LAPACKE REQUIRED IMPORTED_TARGET lapacke)      # liblapacke-dev
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)    # libxxhash-dev (cache checksums)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)  # libcpp-httplib-dev
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)      # libsqlite3-dev (response cache, run store)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)          # libpq-dev (run store on PostgreSQL)
if(TRINITY_BUILD_TESTS)
  find_package(GTest REQUIRED)                   # libgtest-dev
endif()
