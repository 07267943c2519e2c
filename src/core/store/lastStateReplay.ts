// A replay writes each action's last state, not every step to it. An action's state changes
// by one guarded statement (WRITES.updateAction: set every state column, where the id and the
// status it leaves match), and a journal holds a chain of them for every action that ran or
// was paused: the start-up bench's 4,999 records hold 4,997 for one action, a third of the
// statements SQLite ran at start-up.
//
// Why skipping the steps between is exact: a write is journaled only when it changed a row
// (Store.write), and a replay applies the same statements to the same database in the same
// order, so each step of a chain changes that action's row, and each one's guard is the status
// the step before it set. The row after the chain is then the row before it with the last
// step's columns, which is what the last step's values under the first step's guard write.
// Statements other than updateAction that read or write the actions table end every chain
// first (they run against the state the journal saw); statements on other tables never look
// at those columns, so running them before a held step changes nothing.
import type { SqlValue } from 'sql.js';
import { WRITES, type Op, type WriteName } from './store';

/** Where updateAction's parameters hold the action's id, the status it sets and the status it leaves. */
const SETS_STATUS = 0;
const ID = 13;
const LEAVES_STATUS = 14;

/** Every write other than updateAction whose statement names the actions table. */
const TOUCHES_ACTIONS: ReadonlySet<WriteName> = new Set(
  (Object.keys(WRITES) as WriteName[]).filter((name) => name !== 'updateAction' && /\bactions\b/.test(WRITES[name])),
);

export class LastStateReplay {
  /** Per action id, the chain so far: its last step's values under its first step's guard. */
  private readonly held = new Map<SqlValue, SqlValue[]>();

  constructor(private readonly execute: (name: WriteName, params: SqlValue[]) => void) {}

  apply([name, params]: Op): void {
    if (name === 'updateAction' && params.length === LEAVES_STATUS + 1) {
      const id = params[ID];
      const chain = this.held.get(id);
      if (chain && chain[SETS_STATUS] === params[LEAVES_STATUS]) {
        const merged = params.slice();
        merged[LEAVES_STATUS] = chain[LEAVES_STATUS];
        this.held.set(id, merged);
        return;
      }
      if (chain) {
        // Not the next step from the state held (never, in a replay of what applied): write it as it was.
        this.held.delete(id);
        this.execute('updateAction', chain);
      }
      this.held.set(id, params);
      return;
    }
    if (TOUCHES_ACTIONS.has(name)) this.flush();
    this.execute(name, params);
  }

  /** Writes every chain held. Call before the transaction commits. */
  flush(): void {
    for (const params of this.held.values()) this.execute('updateAction', params);
    this.held.clear();
  }
}
