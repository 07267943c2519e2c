// A replay that writes each action's last state (lastStateReplay.ts) must leave the database
// exactly as a replay of every statement does. fast-check drives random writes through a real
// sql.js Store, journaled as the engine journals them (only those that changed a row), then
// replays them onto the same starting database both ways and compares every table.
import * as assert from 'assert';
import fc from 'fast-check';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import { fastBinder } from '../../src/core/store/fastBind';
import { LastStateReplay } from '../../src/core/store/lastStateReplay';
import { migrate } from '../../src/core/store/schema';
import { loadSqlJs } from '../../src/core/store/sqljs';
import { Store, type Op, type WriteName } from '../../src/core/store/store';

const IDS = ['a1', 'a2', 'a3'];
const STATUSES = ['waiting', 'paused', 'running', 'succeeded', 'failed'];

function insertAction(id: string, status: string, at: number): SqlValue[] {
  // id, name, status, trigger, run, policy, next_at, occurrence_at, pending, pending_since, due_at, due_key,
  // attempt, running, held, idempotency_key, upstream, hook, created_at, updated_at, last_run_id, reason
  return [id, `n-${id}`, status, '{"kind":"manual"}', '{"runner":"r","command":"x"}', '{}', null, null, 0, null, null, null, 0, 0, 0, null, null, null, at, at, null, null];
}

const id = fc.constantFrom(...IDS);
const status = fc.constantFrom(...STATUSES);
const small = fc.integer({ min: 0, max: 5 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .tuple(id, status, status, small, small, small, fc.option(fc.integer({ min: 1, max: 1e6 })), fc.option(fc.uint8Array({ minLength: 24, maxLength: 24 })), fc.integer({ min: 1, max: 1e6 }))
      .map(([i, to, from, pending, attempt, running, nextAt, dueKey, at]): Op => [
        'updateAction',
        [to, nextAt, null, pending, null, nextAt, dueKey, attempt, running, to === 'paused' ? 1 : 0, at, null, `to ${to}`, i, from],
      ]),
  },
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 1e6 }), id).map(([ts, i]): Op => ['insertEvent', [ts, 'task.paused', i, null, '{}']]) },
  { weight: 2, arbitrary: fc.tuple(fc.uuid(), fc.integer({ min: 1, max: 1e6 })).map(([r, at]): Op => ['recordRequest', [r, at, '{"ok":true}']]) },
  { weight: 1, arbitrary: fc.tuple(small, id).map(([p, i]): Op => ['setPriority', [p, i]]) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 1e6 }), id).map(([at, i]): Op => ['setDefinedAt', [at, i]]) },
  { weight: 1, arbitrary: fc.tuple(id, status).map(([i, s]): Op => ['deleteAction', [i, s]]) },
  { weight: 1, arbitrary: fc.tuple(id, status, fc.integer({ min: 1, max: 1e6 })).map(([i, s, at]): Op => ['insertAction', insertAction(i, s, at)]) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 1e6 }), small).map(([before, limit]): Op => ['pruneFinishedActions', [before, limit]]) },
  {
    weight: 1,
    arbitrary: fc.tuple(id, status, fc.string({ maxLength: 4 })).map(([i, s, hash]): Op => ['updateDefinition', ['{"kind":"manual"}', '{"runner":"r","command":"y"}', '{}', null, null, 'file', hash, null, i, s]]),
  },
);

function startingDatabase(SQL: SqlJsStatic): Uint8Array {
  const db = new SQL.Database();
  migrate(db);
  const store = new Store(db, fastBinder(db));
  IDS.forEach((i, k) => store.execute('insertAction', insertAction(i, STATUSES[k], 1)));
  const bytes = db.export();
  store.close();
  return bytes;
}

function tables(db: Database): unknown {
  const out: Record<string, unknown> = {};
  for (const t of ['actions', 'events', 'requests']) out[t] = db.exec(`SELECT * FROM ${t} ORDER BY rowid`);
  return out;
}

/** Where a write guarded by an action's status holds the id and that status. */
const GUARDED: Partial<Record<WriteName, { id: number; status: number }>> = {
  updateAction: { id: 13, status: 14 },
  deleteAction: { id: 0, status: 1 },
  updateDefinition: { id: 8, status: 9 },
};

function currentStatus(db: Database, id: string): string | undefined {
  return db.exec('SELECT status FROM actions WHERE id = ?', [id])[0]?.values[0][0] as string | undefined;
}

/** Replays `ops` onto a copy of `start`, in one transaction as a load does; returns every table. */
function replayed(SQL: SqlJsStatic, start: Uint8Array, ops: Op[], lastState: boolean): unknown {
  const db = new SQL.Database(start);
  const store = new Store(db, fastBinder(db));
  try {
    db.exec('BEGIN');
    const execute = (name: WriteName, params: SqlValue[]): void => void store.execute(name, params);
    if (lastState) {
      const replay = new LastStateReplay(execute);
      for (const op of ops) replay.apply(op);
      replay.flush();
    } else {
      for (const [name, params] of ops) execute(name, params);
    }
    db.exec('COMMIT');
    return tables(db);
  } finally {
    store.close();
  }
}

describe('a replay of each action\'s last state', () => {
  let SQL: SqlJsStatic;
  before(async () => {
    SQL = await loadSqlJs();
  });

  it('leaves every table as a replay of every statement does, for random journals (fast-check, real sql.js)', () => {
    const start = startingDatabase(SQL);
    let chained = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (attempts) => {
        // What the engine journals: the writes that changed a row, in order.
        const db = new SQL.Database(start);
        const store = new Store(db, fastBinder(db));
        let journaled: Op[];
        let live: unknown;
        try {
          for (const [name, given] of attempts) {
            // Most guarded writes leave the status the action has (as the engine's do); the rest guess.
            const params = given.slice();
            const guard = GUARDED[name];
            if (guard && given[guard.status] !== 'failed') params[guard.status] = currentStatus(db, String(given[guard.id])) ?? given[guard.status];
            try {
              store.write(name, params);
            } catch {
              // a constraint (an id inserted twice): not journaled, as in the engine
            }
          }
          journaled = store.pendingOps().slice();
          store.commit();
          live = tables(db);
        } finally {
          store.close();
        }
        let executed = 0;
        const counting = new LastStateReplay(() => void executed++);
        for (const op of journaled) counting.apply(op);
        counting.flush();
        if (executed < journaled.length) chained++;
        assert.deepStrictEqual(replayed(SQL, start, journaled, false), live);
        assert.deepStrictEqual(replayed(SQL, start, journaled, true), live);
      }),
      { numRuns: 300 },
    );
    // The property says something only if many of the journals held chains it shortened.
    assert.ok(chained > 100, `only ${chained} of 300 journals had a chain to shorten`);
  });

  it('writes one statement for a chain of an action\'s steps, and ends a chain at a statement that reads the actions table', () => {
    const seen: [WriteName, SqlValue[]][] = [];
    const replay = new LastStateReplay((name, params) => void seen.push([name, params]));
    const step = (to: string, from: string, at: number): Op => ['updateAction', [to, null, null, 0, null, null, null, 0, 0, 0, at, null, null, 'a1', from]];
    replay.apply(step('paused', 'waiting', 1));
    replay.apply(['insertEvent', [1, 'task.paused', 'a1', null, '{}']]);
    replay.apply(step('waiting', 'paused', 2));
    replay.apply(step('paused', 'waiting', 3));
    // Reads status and updated_at: the chain is written before it, as the journal saw it.
    replay.apply(['pruneFinishedActions', [10, 5]]);
    replay.apply(step('waiting', 'paused', 4));
    replay.flush();
    assert.deepStrictEqual(
      seen.map(([name, p]) => (name === 'updateAction' ? `${name} ${p[14]}→${p[0]} at ${p[10]}` : name)),
      ['insertEvent', 'updateAction waiting→paused at 3', 'pruneFinishedActions', 'updateAction paused→waiting at 4'],
    );
    // A step that does not leave the state held (never, replaying what applied) is written as it was.
    seen.length = 0;
    replay.apply(step('paused', 'waiting', 5));
    replay.apply(step('running', 'waiting', 6));
    replay.flush();
    assert.deepStrictEqual(
      seen.map(([, p]) => `${p[14]}→${p[0]} at ${p[10]}`),
      ['waiting→paused at 5', 'waiting→running at 6'],
    );
  });
});
