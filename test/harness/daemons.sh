# Process helpers shared by host-setup.sh and host-teardown.sh (sourced, not run).

# True while process $1 exists and is not a zombie (waiting to be reaped).
alive() { [[ -r "/proc/$1/status" ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# Prints the pid in pid file $1 when that process is alive and its command is $2.
live_pid() {
	local pid
	[[ -s "$1" ]] || return 1
	pid=$(tr -dc '0-9' <"$1")
	[[ -n "$pid" && -r "/proc/$pid/comm" && "$(cat "/proc/$pid/comm")" == "$2" ]] || return 1
	alive "$pid" || return 1
	printf '%s\n' "$pid"
}

# SIGTERM, up to 10 s of grace, then SIGKILL.
stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}
