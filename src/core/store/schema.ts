// The database schema, created and migrated from a version number kept in `meta`.
import type { Database } from 'sql.js';

/** Each entry migrates from version i to i + 1. Never edit a shipped entry; append one. */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE actions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    trigger TEXT NOT NULL,
    run TEXT NOT NULL,
    policy TEXT NOT NULL,
    next_at INTEGER,          -- next time-based start: a schedule occurrence or a retry
    occurrence_at INTEGER,    -- the schedule occurrence next_at stands for (recurring actions)
    pending INTEGER NOT NULL DEFAULT 0,  -- queued triggered runs
    pending_since INTEGER,
    due_at INTEGER,           -- effective start time: min(next_at, pending_since)
    due_key BLOB,             -- 8-byte big-endian due_at ++ 16-byte uuid
    attempt INTEGER NOT NULL DEFAULT 0,
    running INTEGER NOT NULL DEFAULT 0,
    held INTEGER NOT NULL DEFAULT 0,
    idempotency_key TEXT UNIQUE,
    upstream TEXT,            -- trigger.after, for "who follows this action"
    hook TEXT,                -- trigger.hook
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_run_id TEXT,
    reason TEXT
  );
  CREATE INDEX actions_due ON actions(due_key) WHERE due_key IS NOT NULL;
  CREATE INDEX actions_upstream ON actions(upstream) WHERE upstream IS NOT NULL;
  CREATE INDEX actions_hook ON actions(hook) WHERE hook IS NOT NULL;
  CREATE INDEX actions_status ON actions(status, updated_at);
  CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    action_id TEXT NOT NULL,
    name TEXT NOT NULL,
    runner TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    scheduled_for INTEGER,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    exit_code INTEGER,
    reason TEXT,
    output_tail TEXT NOT NULL DEFAULT '',
    cause TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    owner TEXT NOT NULL,
    deadline INTEGER
  );
  CREATE INDEX runs_running ON runs(started_at) WHERE status = 'running';
  CREATE INDEX runs_ended ON runs(ended_at) WHERE ended_at IS NOT NULL;
  CREATE INDEX runs_action ON runs(action_id, started_at);
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    type TEXT NOT NULL,
    action_id TEXT,
    run_id TEXT,
    data TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX events_action ON events(action_id, seq);
  CREATE INDEX events_ts ON events(ts);
  CREATE TABLE triggers (     -- queued triggered runs: webhook deliveries, upstream successes, run-now
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action_id TEXT NOT NULL,
    cause TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
  );
  CREATE INDEX triggers_action ON triggers(action_id, id);
  CREATE TABLE requests (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL);
  CREATE INDEX requests_applied ON requests(applied_at);
  INSERT INTO meta (key, value) VALUES ('journal_n', '0'), ('paused', '0');
  `,
  `
  CREATE TABLE deliveries (   -- the webhook inbox: stored raw on arrival, processed on the next tick
    id TEXT PRIMARY KEY,
    hook TEXT NOT NULL,
    external_id TEXT,         -- the sender's delivery id (X-GitHub-Delivery, Idempotency-Key)
    status TEXT NOT NULL,     -- received | processed
    received_at INTEGER NOT NULL,
    processed_at INTEGER,
    source TEXT NOT NULL,     -- the client's address, or who replayed it
    headers TEXT NOT NULL,    -- as received, credentials left out
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    replay_of TEXT,
    actions TEXT NOT NULL DEFAULT '[]'  -- the actions it queued a run for
  );
  CREATE UNIQUE INDEX deliveries_external ON deliveries(hook, external_id) WHERE external_id IS NOT NULL;
  CREATE INDEX deliveries_received ON deliveries(received_at);
  CREATE INDEX deliveries_pending ON deliveries(received_at) WHERE status = 'received';
  ALTER TABLE runs ADD COLUMN delivery_id TEXT;
  CREATE INDEX runs_delivery ON runs(delivery_id) WHERE delivery_id IS NOT NULL;
  `,
  `
  ALTER TABLE requests ADD COLUMN reply TEXT;  -- what the request did, sent again if the reply file was lost
  `,
  `
  ALTER TABLE actions ADD COLUMN source TEXT NOT NULL DEFAULT 'local';  -- 'file': defined in .sdlc/actions.yaml
  ALTER TABLE actions ADD COLUMN def_hash TEXT;  -- the file definition it was last reconciled to
  ALTER TABLE actions ADD COLUMN gate TEXT;      -- the approval key it waits for; never claimed while set
  CREATE INDEX actions_source ON actions(source, name) WHERE source = 'file';
  CREATE TABLE definitions (  -- what reconciliation last applied from the actions file, by name
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    action_id TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE outbox (       -- notifications, written in the commit that records the run's end
    id TEXT PRIMARY KEY,      -- also the Idempotency-Key the receiver sees on every attempt
    run_id TEXT NOT NULL,
    action_id TEXT NOT NULL,
    target TEXT NOT NULL,     -- the URL, or $NAME of the environment variable that holds it
    format TEXT NOT NULL,     -- json | slack | discord
    body TEXT NOT NULL,       -- the request body, built when the run ended
    status TEXT NOT NULL,     -- pending | sent | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    ended_at INTEGER,
    last_error TEXT
  );
  CREATE INDEX outbox_pending ON outbox(next_at) WHERE status = 'pending';
  CREATE INDEX outbox_action ON outbox(action_id, created_at);
  CREATE INDEX outbox_ended ON outbox(ended_at) WHERE ended_at IS NOT NULL;
  CREATE INDEX runs_started ON runs(started_at);
  `,
  `
  CREATE TABLE action_after (  -- each upstream of an "after" action (the upstream column held one)
    action_id TEXT NOT NULL,
    upstream_id TEXT NOT NULL,
    PRIMARY KEY (action_id, upstream_id)
  ) WITHOUT ROWID;
  CREATE INDEX action_after_upstream ON action_after(upstream_id);
  INSERT INTO action_after (action_id, upstream_id) SELECT id, upstream FROM actions WHERE upstream IS NOT NULL;
  ALTER TABLE actions ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;  -- policy.priority, for the claim's order
  CREATE INDEX actions_claim ON actions(priority, due_key) WHERE due_key IS NOT NULL;
  CREATE TABLE flows (        -- flow runs: what one start of an action that others follow sets going
    flow_id TEXT PRIMARY KEY,
    root_action_id TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,     -- running | succeeded | failed | cancelled
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    commit_sha TEXT,          -- HEAD when it opened (worktree steps check it out)
    reason TEXT,
    attempt INTEGER NOT NULL DEFAULT 1,
    open_steps INTEGER NOT NULL DEFAULT 0  -- steps not ended: the flow ends when none is left
  );
  CREATE INDEX flows_started ON flows(started_at);
  CREATE INDEX flows_ended ON flows(ended_at) WHERE ended_at IS NOT NULL;
  CREATE TABLE flow_steps (   -- each action a flow run reaches, frozen when it opens
    flow_id TEXT NOT NULL,
    action_id TEXT NOT NULL,
    name TEXT NOT NULL,
    cond TEXT NOT NULL,       -- success | failure | always
    status TEXT NOT NULL,     -- waiting | queued | running | succeeded | failed | cancelled | skipped
    remaining INTEGER NOT NULL,  -- upstreams in the flow that have not ended
    run_id TEXT,
    attempt INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    failed_path INTEGER NOT NULL DEFAULT 0,  -- skipped because something upstream failed
    position INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    PRIMARY KEY (flow_id, action_id)
  ) WITHOUT ROWID;
  CREATE TABLE flow_edges (
    flow_id TEXT NOT NULL,
    upstream_id TEXT NOT NULL,
    action_id TEXT NOT NULL,
    PRIMARY KEY (flow_id, upstream_id, action_id)
  ) WITHOUT ROWID;
  CREATE INDEX flow_edges_down ON flow_edges(flow_id, action_id);
  ALTER TABLE runs ADD COLUMN flow_id TEXT;
  ALTER TABLE runs ADD COLUMN outputs TEXT;   -- what it wrote to $SDLC_OUTPUT (flow steps)
  ALTER TABLE runs ADD COLUMN worktree TEXT;  -- where an isolated run ran
  CREATE INDEX runs_flow ON runs(flow_id) WHERE flow_id IS NOT NULL;
  ALTER TABLE triggers ADD COLUMN flow_id TEXT;
  CREATE INDEX triggers_flow ON triggers(flow_id) WHERE flow_id IS NOT NULL;
  `,
  `
  ALTER TABLE actions ADD COLUMN defined_at INTEGER;  -- when its definition (trigger, run, policy) last changed
  UPDATE actions SET defined_at = created_at;
  ALTER TABLE runs ADD COLUMN queued_at INTEGER;      -- when it could have started: its due time, or when it was queued
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database): number {
  const res = db.exec("SELECT value FROM meta WHERE key = 'schema_version'");
  return res.length ? Number(res[0].values[0][0]) : 0;
}

export function hasMetaTable(db: Database): boolean {
  return db.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").length > 0;
}

/** Brings the schema to SCHEMA_VERSION. Returns whether anything changed. */
export function migrate(db: Database): boolean {
  const from = hasMetaTable(db) ? schemaVersion(db) : 0;
  if (from > SCHEMA_VERSION) {
    throw new Error(`the database has schema version ${from}, newer than this program's ${SCHEMA_VERSION}; update the extension or CLI`);
  }
  if (from === SCHEMA_VERSION) return false;
  db.exec('BEGIN');
  try {
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
    db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", [String(SCHEMA_VERSION)]);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
  return true;
}
