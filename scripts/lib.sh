# Shared set-up for scripts/demo and scripts/test: Debian packages, an out-of-tree build, a
# private MariaDB under a folder of ours (never the system's service), schema and demo data.
# Sourced, not run.

KABAR_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages, by what needs them. Build: compiling kabard. Runtime: what the demo runs
# (a private MariaDB; python3 picks free ports; curl is how the demo is tried). Test: the unit
# tests (check), the fuzzers (clang and its runtime), the load generator (wrk), a real Kannel,
# and the browser test of the admin pages (Debian's chromium, driven from Node).
KABAR_BUILD_PACKAGES="build-essential autoconf automake pkg-config libevent-dev
 libcurl4-openssl-dev libmariadb-dev libconfig-dev libsodium-dev libjansson-dev"
KABAR_RUNTIME_PACKAGES="mariadb-server mariadb-client python3 curl procps"
KABAR_TEST_PACKAGES="check clang libclang-rt-dev wrk kannel kannel-extras chromium
 fonts-liberation"
# scripts/cluster and its tests only: three Galera nodes (rsync SST) behind HAProxy
KABAR_CLUSTER_PACKAGES="galera-4 rsync haproxy"

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# kabar_packages [test|cluster]: installs what is missing of the build and runtime packages, with
# "test" the test tools and the cluster's packages too, with "cluster" the cluster's
kabar_packages() {
  local missing=() p
  local pkgs="$KABAR_BUILD_PACKAGES $KABAR_RUNTIME_PACKAGES"
  if [ "${1:-}" = test ]; then
    pkgs="$pkgs $KABAR_TEST_PACKAGES"
    # the browser tests of the admin pages drive Debian's chromium from Node (playwright-core)
    command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
    command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
  fi
  case "${1:-}" in test|cluster) pkgs="$pkgs $KABAR_CLUSTER_PACKAGES" ;; esac
  for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root, or apt-get install them)"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # the package scripts may try to start the system's MariaDB: we never use it
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# kabar_e2e_deps: playwright-core for tests/e2e (from the lock file; it downloads no browser)
kabar_e2e_deps() {
  [ -f "$KABAR_SRC/tests/e2e/node_modules/playwright-core/package.json" ] && return 0
  say "installing playwright-core for the browser tests (npm ci)"
  (cd "$KABAR_SRC/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    die "npm ci failed in tests/e2e"
}

# How scripts/test configures its builds: warnings are errors, and the fault injection that
# tests/integration/test_faults.py arms (KABAR_FAULTS) is compiled in. The demo and the
# benchmarks build without it, as production does.
KABAR_TEST_OPTIONS="--enable-werror --enable-debug --enable-faults"

# kabar_build DIR [configure options...]: an out-of-tree build, so several can coexist.
kabar_build() {
  local dir=$1; shift
  [ -x "$KABAR_SRC/configure" ] || (cd "$KABAR_SRC" && ./autogen.sh >/dev/null 2>&1) ||
    die "autogen.sh failed"
  mkdir -p "$dir"
  if [ ! -f "$dir/Makefile" ] || [ "$KABAR_SRC/configure" -nt "$dir/Makefile" ] ||
     [ "$(cat "$dir/.kabar-options" 2>/dev/null)" != "$*" ]; then
    (cd "$dir" && "$KABAR_SRC/configure" "$@" >configure.out 2>&1) ||
      { tail -30 "$dir/configure.out" >&2; die "configure failed"; }
    echo "$*" > "$dir/.kabar-options"
  fi
  make -C "$dir" -j"$(nproc)" >"$dir/make.out" 2>&1 || { tail -40 "$dir/make.out" >&2; die "build failed"; }
}

free_port() {
  # a port that could be bound a moment ago (a connect test alone can pick one that cannot),
  # below the ephemeral range: one the kernel hands out for bind(0) can meanwhile become the
  # source port of some outgoing connection, and the server then fails to bind it
  python3 -c "import sys; sys.path.insert(0, '$KABAR_SRC/tests/integration'); import kabartest; print(kabartest.free_port())" ||
    die "no free port"
}

# kabar_started LOG [PID]: waits (up to 30 s, or until the process PID is gone) for the
# event=started line of a kabard logging to LOG and prints its port; a kabard that does not
# start ends the script with its log's tail (port=$(kabar_started ...) ends it under set -e)
kabar_started() {
  local log=$1 pid=${2:-}
  for _ in $(seq 600); do
    grep -q 'event=started' "$log" && break
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  grep -q 'event=started' "$log" || { tail -20 "$log" >&2; die "kabard did not start"; }
  grep -o 'event=started.* port=[0-9]*' "$log" | grep -o '[0-9]*$'
}

# kabar_mariadb_start VAR: initialise (first time) and start a private server in VAR/mysql.
# KABAR_MARIADB_OPTS: more server options, after ours (scripts/bench-scale: a bigger buffer pool)
kabar_mariadb_start() {
  local var=$1 port user=root
  [ "$(id -u)" -eq 0 ] || user=$(id -un)
  mkdir -p "$var"
  var=$(cd "$var" && pwd)   # mariadbd reads relative paths against its datadir
  export KABAR_DB_SOCKET="$var/mysql.sock"
  if [ -f "$var/mysqld.pid" ] && kill -0 "$(cat "$var/mysqld.pid")" 2>/dev/null; then
    say "MariaDB already running (pid $(cat "$var/mysqld.pid"))"
    return 0
  fi
  if [ ! -d "$var/mysql/mysql" ]; then
    say "initialising a private MariaDB in $var/mysql"
    mariadb-install-db --no-defaults --datadir="$var/mysql" --user="$user" \
      --auth-root-authentication-method=socket --skip-test-db >"$var/mysql-install.log" 2>&1 ||
      { tail -20 "$var/mysql-install.log" >&2; die "mariadb-install-db failed"; }
  fi
  port=$(free_port)
  echo "$port" > "$var/mysql.port"
  # the command line is kept so the integration tests can stop and restart this server
  cat > "$var/mysqld.cmd" <<CMD
mariadbd --no-defaults --datadir=$var/mysql --socket=$var/mysql.sock --port=$port
--bind-address=127.0.0.1 --pid-file=$var/mysqld.pid --log-error=$var/mysql.err --user=$user
--skip-name-resolve --innodb-buffer-pool-size=256M --innodb-log-file-size=256M --max-connections=500
${KABAR_MARIADB_OPTS:-}
CMD
  # its own session, so that Ctrl-C on the demo reaches kabard and not the database
  # shellcheck disable=SC2046
  setsid $(cat "$var/mysqld.cmd") </dev/null >/dev/null 2>&1 &
  for _ in $(seq 300); do
    mariadb-admin --no-defaults -S "$var/mysql.sock" -uroot ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  mariadb-admin --no-defaults -S "$var/mysql.sock" -uroot ping >/dev/null 2>&1 ||
    { tail -20 "$var/mysql.err" >&2; die "MariaDB did not start"; }
  say "MariaDB up: socket $var/mysql.sock, port $port"
}

kabar_mariadb_stop() {
  local var=$1 pid
  [ -f "$var/mysqld.pid" ] || return 0
  pid=$(cat "$var/mysqld.pid")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

kabar_sql() { mariadb --no-defaults -S "$KABAR_DB_SOCKET" -uroot "$@"; }

# kabar_configure VAR PORT [ADMIN_PORT]: database, user, password file and VAR/kabard.conf
# (the admin pages' port is 0, a free one, when PORT is 0, else 8081 unless given)
kabar_configure() {
  local var=$1 port=$2 admin_port=${3:-} pw
  [ -n "$admin_port" ] || { [ "$port" = 0 ] && admin_port=0 || admin_port=8081; }
  if [ ! -s "$var/db.password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$var/db.password")
  fi
  pw=$(cat "$var/db.password")
  kabar_sql -e "CREATE DATABASE IF NOT EXISTS kabar CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    CREATE USER IF NOT EXISTS 'kabar'@'localhost' IDENTIFIED BY '$pw';
    ALTER USER 'kabar'@'localhost' IDENTIFIED BY '$pw';
    GRANT ALL ON kabar.* TO 'kabar'@'localhost';" || die "cannot create the database"
  sed -e "s|@PORT@|$port|" -e "s|@ADMINPORT@|$admin_port|" -e "s|@DBSOCKET@|$var/mysql.sock|" -e "s|@DBPASSFILE@|$var/db.password|" \
      -e "s|@SQLDIR@|$KABAR_SRC/sql|" -e "s|@DIALOGS@|$KABAR_SRC/config/dialogs.conf|" -e "s|@KEYWORDS@|$KABAR_SRC/config/keywords.conf|" -e "s|@LESSONS@|$KABAR_SRC/config/lessons.conf|" \
      "$KABAR_SRC/config/kabard.conf.in" > "$var/kabard.conf"
}

# kabar_database KABARD VAR [reports]: migrations, then the demo data, its graduates and a TOT (all
# safe to run again); with "reports", also 12 weeks of demo reports, alerts and SMS for the
# admin pages
kabar_database() {
  local kabard=$1 var=$2 reports=${3:-}
  "$kabard" --migrate -c "$var/kabard.conf" 2>"$var/migrate.log" ||
    { cat "$var/migrate.log" >&2; die "migrations failed"; }
  kabar_sql kabar < "$KABAR_SRC/sql/demo/demo.sql" || die "demo data failed to load"
  kabar_sql kabar < "$KABAR_SRC/sql/demo/demo_graduates.sql" || die "demo graduates failed to load"
  kabar_sql kabar < "$KABAR_SRC/sql/demo/demo_trainings.sql" || die "demo trainings failed to load"
  kabar_sql kabar < "$KABAR_SRC/sql/demo/demo_lessons.sql" || die "demo lessons failed to load"
  if [ "$reports" = reports ]; then
    kabar_sql kabar < "$KABAR_SRC/sql/demo/demo_reports.sql" || die "demo reports failed to load"
  fi
}

# kabar_admin_user KABARD VAR: the demo administrator "admin", its password kept in
# VAR/admin.password (made once, random)
kabar_admin_user() {
  local kabard=$1 var=$2
  if [ ! -s "$var/admin.password" ]; then
    (umask 077; head -c 12 /dev/urandom | base64 | tr -d '/+=' > "$var/admin.password")
  fi
  "$kabard" -c "$var/kabard.conf" user add admin --role admin < "$var/admin.password" >/dev/null ||
    die "cannot create the demo administrator"
}
