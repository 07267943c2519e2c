// What this machine's user approved to run from actions files: per folder, the approval keys
// (hashes of exactly what would execute) with what they stood for. Kept outside the repository
// (the extension's global storage, or the CLI's state folder), never in `.sdlc/`.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from '../store/atomicFile';

export interface ApprovedCommand {
  name: string;
  command: string;
  approvedAt: string;
}

type Ledger = Record<string, Record<string, ApprovedCommand>>;

/** Where the command line keeps the commands it has seen: `$XDG_STATE_HOME/sdlc-orchestrator/`. */
export function cliApprovalsFile(): string {
  const base = process.env.SDLC_ORCHESTRATOR_STATE_DIR || path.join(process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'sdlc-orchestrator');
  return path.join(base, 'approved-commands.json');
}

export class ApprovalLedger {
  private ledger: Ledger = {};
  /** The file's identity when last read: another window or the CLI may approve meanwhile. */
  private readAs = '';

  constructor(readonly file: string) {
    this.reload();
  }

  /** Reads the file again (another window or the CLI may have approved something). */
  reload(): void {
    this.readAs = this.identity();
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8'));
      this.ledger = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
    } catch {
      this.ledger = {}; // none yet, or unreadable: nothing is approved, which is the safe reading
    }
  }

  private identity(): string {
    try {
      const st = fs.statSync(this.file);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return 'absent';
    }
  }

  has(folder: string, key: string): boolean {
    if (this.identity() !== this.readAs) this.reload();
    return Boolean(this.ledger[path.resolve(folder)]?.[key]);
  }

  add(folder: string, entries: { key: string; name: string; command: string }[], now = Date.now()): void {
    if (!entries.length) return;
    this.reload();
    const f = path.resolve(folder);
    const mine = (this.ledger[f] ??= {});
    for (const e of entries) mine[e.key] = { name: e.name, command: e.command, approvedAt: new Date(now).toISOString() };
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.file, `${JSON.stringify(this.ledger, null, 2)}\n`, 0o600);
  }
}
