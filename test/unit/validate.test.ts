import * as assert from 'assert';
import { parseDuration } from '../../src/core/duration';
import { ValidationError } from '../../src/core/errors';
import type { ActionInput } from '../../src/core/model';
import { planRecurring, validateCron } from '../../src/core/schedule';
import { validateActions, type ExistingActions } from '../../src/core/validate';

const none: ExistingActions = { find: () => undefined };
const now = Date.parse('2026-06-01T12:00:00Z');
const base = (over: Partial<ActionInput>): ActionInput => ({ name: 'x', trigger: { kind: 'manual' }, run: { command: 'true' }, ...over });

function rejects(input: ActionInput, field: string, pattern: RegExp, existing = none) {
  assert.throws(
    () => validateActions([input], existing, { now }),
    (err: unknown) => err instanceof ValidationError && err.field === field && pattern.test(err.message),
  );
}

describe('durations', () => {
  it('parses the units people write', () => {
    assert.strictEqual(parseDuration('500ms'), 500);
    assert.strictEqual(parseDuration('30s'), 30_000);
    assert.strictEqual(parseDuration('10m'), 600_000);
    assert.strictEqual(parseDuration('2h'), 7_200_000);
    assert.strictEqual(parseDuration('1d'), 86_400_000);
    assert.strictEqual(parseDuration('1h30m'), 5_400_000);
    assert.strictEqual(parseDuration('1.5s'), 1500);
  });
  it('names what is wrong', () => {
    for (const bad of ['', '10', 'ten minutes', '5x', '-3s', '0s']) {
      assert.throws(() => parseDuration(bad, 'timeout'), (e: unknown) => e instanceof ValidationError && /timeout/.test(e.message));
    }
  });
});

describe('validation', () => {
  it('accepts each trigger and computes its first due time', () => {
    const [at, delay, cron, every, hook, manual] = validateActions(
      [
        base({ trigger: { kind: 'at', at: '2026-06-01T13:00:00Z' } }),
        base({ trigger: { kind: 'delay', delay: '10m' } }),
        base({ trigger: { kind: 'cron', cron: '0 9 * * 1-5', tz: 'Europe/Berlin' } }),
        base({ trigger: { kind: 'every', every: '15m' } }),
        base({ trigger: { kind: 'webhook', hook: 'deploy' } }),
        base({ trigger: { kind: 'manual' } }),
      ],
      none,
      { now },
    );
    assert.strictEqual(at.dueAt, Date.parse('2026-06-01T13:00:00Z'));
    assert.strictEqual(delay.dueAt, now + 600_000);
    assert.strictEqual(cron.dueAt, Date.parse('2026-06-02T07:00:00Z')); // 09:00 in Berlin (CEST)
    assert.strictEqual(every.dueAt, now + 900_000);
    assert.strictEqual(hook.dueAt, null);
    assert.strictEqual(manual.dueAt, null);
  });

  it('refuses a malformed cron expression, naming it', () => {
    rejects(base({ trigger: { kind: 'cron', cron: '* * *' } }), 'cron', /"\* \* \*" has 3 fields/);
    rejects(base({ trigger: { kind: 'cron', cron: '61 * * * *' } }), 'cron', /invalid.*minute/i);
    rejects(base({ trigger: { kind: 'cron', cron: '0 0 30 2 *' } }), 'cron', /never runs/);
    rejects(base({ trigger: { kind: 'cron', cron: '* * * * *', tz: 'Mars/Olympus' } }), 'tz', /Mars\/Olympus/);
  });

  it('refuses a time in the past and a time that is not ISO 8601', () => {
    rejects(base({ trigger: { kind: 'at', at: '2026-06-01T11:59:00Z' } }), 'at', /in the past/);
    rejects(base({ trigger: { kind: 'at', at: 'tomorrow at nine' } }), 'at', /not an ISO 8601 time/);
    rejects(base({ trigger: { kind: 'at', at: '2026-13-45T99:00:00Z' } }), 'at', /not an ISO 8601/);
  });

  it('refuses an empty command, a bad webhook name, bad policies', () => {
    rejects(base({ run: { command: '   ' } }), 'run', /command is empty/);
    rejects(base({ trigger: { kind: 'webhook', hook: 'has space' } }), 'webhook', /"has space"/);
    rejects(base({ policy: { maxAttempts: 0 } }), 'max-attempts', /1 to 100/);
    rejects(base({ policy: { timeout: 'soon' } }), 'timeout', /"soon"/);
    rejects(base({ policy: { catchUp: 'sometimes' as never } }), 'catch-up', /skip, once, all/);
    rejects(base({ trigger: { kind: 'every', every: '1ms' } }), 'every', /too short/);
  });

  it('refuses a dependency on an unknown action, on itself, and on a finished one', () => {
    rejects(base({ trigger: { kind: 'after', after: 'nope' } }), 'after', /no action "nope"/);
    const id = '11111111-1111-4111-8111-111111111111';
    rejects(base({ id, trigger: { kind: 'after', after: id } }), 'after', /after itself/);
    const done: ExistingActions = { find: () => ({ id: '22222222-2222-4222-8222-222222222222', name: 'build', status: 'succeeded', trigger: { kind: 'manual' } }) };
    rejects(base({ trigger: { kind: 'after', after: 'build' } }), 'after', /"build" is already succeeded/, done);
  });

  it('refuses a dependency cycle and names its path', () => {
    assert.throws(
      () =>
        validateActions(
          [
            base({ name: 'build', trigger: { kind: 'after', after: 'deploy' } }),
            base({ name: 'test', trigger: { kind: 'after', after: 'build' } }),
            base({ name: 'deploy', trigger: { kind: 'after', after: 'test' } }),
          ],
          none,
          { now },
        ),
      (e: unknown) => e instanceof ValidationError && /dependency cycle: (build|test|deploy) → .* → .*/.test(e.message),
    );
  });

  it('accepts a chain inside one batch, by name', () => {
    const [build, test] = validateActions(
      [base({ name: 'build', trigger: { kind: 'manual' } }), base({ name: 'test', trigger: { kind: 'after', after: 'build' } })],
      none,
      { now },
    );
    assert.deepStrictEqual(test.trigger, { kind: 'after', after: [build.id] });
  });
});

describe('cron and catch-up', () => {
  it('lists the next run times of a cron expression in its zone', () => {
    const runs = validateCron('30 8 * * *', 'America/New_York', now, 3);
    assert.deepStrictEqual(
      runs.map((t) => new Date(t).toISOString()),
      ['2026-06-01T12:30:00.000Z', '2026-06-02T12:30:00.000Z', '2026-06-03T12:30:00.000Z'],
    );
  });

  const every = { kind: 'every', every: '1m' } as const;
  const due = now - 10 * 60_000 + 1; // ten occurrences ago (and a bit)
  it('skip: a late occurrence is not run; the next one after now is scheduled', () => {
    const p = planRecurring(every, due, now, 'skip', 10, 1000);
    assert.strictEqual(p.kind, 'skip');
    assert.ok(p.kind === 'skip' && p.next! > now && p.next! <= now + 60_000);
    assert.strictEqual(planRecurring(every, now - 200, now, 'skip', 10, 1000).kind, 'run'); // within grace: on time
  });
  it('once: one run stands for every missed occurrence', () => {
    const p = planRecurring(every, due, now, 'once', 10, 1000);
    assert.ok(p.kind === 'run' && p.occurrence > now - 60_000 && p.occurrence <= now && p.missed === 9);
  });
  it('all: the oldest missed occurrences run in turn, capped at the limit', () => {
    const p = planRecurring(every, due, now, 'all', 3, 1000);
    assert.ok(p.kind === 'run' && p.missed === 7 && p.occurrence === due + 7 * 60_000);
  });
});
