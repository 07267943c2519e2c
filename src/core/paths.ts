// Where a folder's orchestrator keeps its files, all under `<folder>/.sdlc/`.
import * as fs from 'fs';
import * as path from 'path';

export interface SdlcPaths {
  workspace: string;
  dir: string;
  db: string; // always a valid SQLite file (the latest snapshot)
  journal: string; // transactions since that snapshot
  checkpoint: string; // the snapshot's blocks as the journal's first records left them (checkpoint.ts)
  lease: string; // the owner's lock (a folder, managed by proper-lockfile)
  owner: string; // who holds the lease: pid, host, instance
  epochs: string; // one file per owner ever, numbered: the fencing token (epoch.ts)
  inbox: string; // requests from followers and other processes
  replies: string; // the owner's answers to them
  webhooks: string; // raw webhook bodies, one file per delivery
  runs: string; // each process run's pid and exit status while it is not yet recorded (runStatus.ts)
  webhookInfo: string; // the listener's URL and the folder's secret (owner-only file)
}

export function sdlcPaths(workspace: string): SdlcPaths {
  const ws = path.resolve(workspace);
  const dir = path.join(ws, '.sdlc');
  return {
    workspace: ws,
    dir,
    db: path.join(dir, 'orchestrator.db'),
    journal: path.join(dir, 'orchestrator.journal'),
    checkpoint: path.join(dir, 'orchestrator.checkpoint'),
    lease: path.join(dir, 'orchestrator.lease'),
    owner: path.join(dir, 'orchestrator.owner.json'),
    epochs: path.join(dir, 'orchestrator.epochs'),
    inbox: path.join(dir, 'inbox'),
    replies: path.join(dir, 'inbox', 'replies'),
    webhooks: path.join(dir, 'webhooks'),
    runs: path.join(dir, 'runs'),
    webhookInfo: path.join(dir, 'webhook.json'),
  };
}

/** What earlier versions wrote: everything ignored. Replaced, since the actions file is source. */
const OLD_GITIGNORE = `# SDLC Orchestrator state: the database, its journal, lease and inbox. Not source.
*
`;
export const GITIGNORE = `# SDLC Orchestrator: \`git add .sdlc\` adds the actions file and nothing else.
# The database, journal, lease, inbox, webhook secret and deliveries are this machine's state.
*
!.gitignore
!actions.yaml
`;

/** Creates `.sdlc/` with a .gitignore that keeps the database and its companions out of git. */
export function ensureSdlcDir(p: SdlcPaths): void {
  fs.mkdirSync(p.replies, { recursive: true });
  fs.mkdirSync(p.runs, { recursive: true });
  const ignore = path.join(p.dir, '.gitignore');
  let current: string | undefined;
  try {
    current = fs.readFileSync(ignore, 'utf8');
  } catch {
    current = undefined;
  }
  // A .gitignore the user wrote is theirs; only ours (or none) is written.
  if (current === undefined || current === OLD_GITIGNORE) fs.writeFileSync(ignore, GITIGNORE);
}
