/**
 * A resumed guest's clock, set without a login. Every local domain has a virtio-serial port
 * named RESUME_PORT. Before its memory is saved (`stop --save`, a live snapshot), the command
 * Lago runs over SSH anyway (`sync`) also leaves a waiter in the guest, blocked reading that
 * port. After the restore the host writes "NONCE EPOCH"; the waiter sets the clock and
 * answers NONCE (as `date`'s output format), then exits. Under TCG a just-restored guest
 * translates all its code anew: a login (sshd's fork, key exchange, a shell and `date`)
 * costs it about four times the waiter's work.
 */
export const RESUME_PORT = 'org.lago.resume.0'

/** The waiter's name in the guest's process list. */
export const WAITER_NAME = 'lago-resume-clock'

/**
 * POSIX sh (busybox, dash, bash). Root only (`date -s`); a port held by another process is
 * reported busy rather than trusted. `timeout` is tried before it is used (busybox before
 * 1.30 wanted `-t SECONDS`). The waiter gives up after WAITER_SECONDS of guest time,
 * so one left in a VM that kept running (a live snapshot, a save that failed) frees the
 * port; a saved guest's clock stands still, so that time only runs again after the restore.
 */
const WAITER_SECONDS = 60
export const ARM_WAITER = `lago_arm() {
  [ "$(id -u 2>/dev/null)" = 0 ] || { echo '${WAITER_NAME}: not root'; return 0; }
  dev=
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = ${RESUME_PORT} ] && dev=/dev/\${p##*/}
  done
  [ -c "$dev" ] || { echo '${WAITER_NAME}: no port'; return 0; }
  (exec 3<>"$dev") 2>/dev/null || { echo '${WAITER_NAME}: busy'; return 0; }
  s=; command -v setsid >/dev/null 2>&1 && s=setsid
  t=; timeout ${WAITER_SECONDS} true >/dev/null 2>&1 && t="timeout ${WAITER_SECONDS}"
  $s $t sh -c 'exec 3<>"$1" || exit 1; read -r n e <&3 || exit 1; exec date -u -s "@$e" "+$n" >&3 2>/dev/null' ${WAITER_NAME} "$dev" </dev/null >/dev/null 2>&1 &
  echo '${WAITER_NAME}: armed'
}
lago_arm`

/** What the arming command printed: 'armed', or why not ('not root', 'no port', 'busy', 'no answer'). */
export function armOutcome(stdout: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(`${WAITER_NAME}: `))
  return line ? line.slice(WAITER_NAME.length + 2).trim() : 'no answer'
}

/** The host's request: a nonce the reply must repeat, and the time to set. */
export function clockRequest(nonce: string, epochSeconds: number): string {
  return `${nonce} ${epochSeconds}\n`
}
