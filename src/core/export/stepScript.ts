// The one step of an exported job: the action's command run as the orchestrator runs it
// (`sh -c COMMAND`), with its timeout per attempt and its retries with doubling backoff. The
// script is fixed text and numbers we chose; the user's command reaches it only through the
// step's environment (SDLC_COMMAND), so nothing in the command is ever read as shell syntax of
// the script or as a workflow expression.

export interface StepPolicy {
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  /** Per attempt, as the orchestrator's timeout is; undefined for none. */
  timeoutMs?: number;
  /** The webhook payload is written to a file, as the orchestrator does with a delivery's body. */
  webhookBody: boolean;
}

/** Seconds as `sleep` and `timeout` take them, exactly to the millisecond. */
function seconds(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const frac = ms % 1000;
  return frac ? `${whole}.${String(frac).padStart(3, '0')}` : String(whole);
}

export function stepScript(p: StepPolicy): string {
  const lines: string[] = [];
  if (p.webhookBody) {
    lines.push(
      '# The payload of the repository_dispatch event, as a file: what SDLC_WEBHOOK_BODY_FILE is in the editor.',
      'export SDLC_WEBHOOK_BODY_FILE="$RUNNER_TEMP/sdlc-webhook-body.json"',
      'printf \'%s\' "$SDLC_WEBHOOK_PAYLOAD" > "$SDLC_WEBHOOK_BODY_FILE"',
    );
  }
  // The orchestrator sends SIGTERM at the timeout and SIGKILL 2 s later; so does `timeout`.
  const run = p.timeoutMs !== undefined ? `timeout --kill-after=2 ${seconds(p.timeoutMs)} sh -c "$SDLC_COMMAND"` : 'sh -c "$SDLC_COMMAND"';
  if (p.maxAttempts <= 1) {
    lines.push('export SDLC_ATTEMPT=1', run);
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    `# Up to ${p.maxAttempts} attempts; the wait before each retry doubles from ${seconds(p.backoffMs)}s, at most ${seconds(p.maxBackoffMs)}s.`,
    'attempt=1',
    `delay_ms=${p.backoffMs}`,
    'while :; do',
    '  export SDLC_ATTEMPT=$attempt',
    '  status=0',
    `  ${run} || status=$?`,
    '  if [ "$status" -eq 0 ]; then exit 0; fi',
    `  if [ "$attempt" -ge ${p.maxAttempts} ]; then exit "$status"; fi`,
    `  echo "::warning::attempt $attempt of ${p.maxAttempts} ended with exit code $status; trying again in $((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))s"`,
    '  sleep "$((delay_ms / 1000)).$(printf \'%03d\' $((delay_ms % 1000)))"',
    '  attempt=$((attempt + 1))',
    `  delay_ms=$((delay_ms * 2)); if [ "$delay_ms" -gt ${p.maxBackoffMs} ]; then delay_ms=${p.maxBackoffMs}; fi`,
    'done',
  );
  return `${lines.join('\n')}\n`;
}

/** The longest a step can take: every attempt to its timeout, and every wait between them. */
export function stepBoundMs(p: StepPolicy): number | undefined {
  if (p.timeoutMs === undefined) return undefined;
  let total = p.maxAttempts * (p.timeoutMs + 2000);
  let delay = p.backoffMs;
  for (let i = 1; i < p.maxAttempts; i++) {
    total += delay;
    delay = Math.min(delay * 2, p.maxBackoffMs);
  }
  return total;
}
