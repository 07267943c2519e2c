// The actions file as read: every problem with its line and column, and the JSON schema that
// ships for editors agreeing with the parser on what is valid.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import Ajv from 'ajv';
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { ACTION_KEYS, approvalKeyOf, parseActionsFile, type ParsedActionsFile } from '../../src/core/definitions/actionsFile';
import { readActionsFile } from '../../src/core/definitions/actionsFileSource';
import { addToActionsFile, definitionOf } from '../../src/core/definitions/writeActionsFile';
import { DEFAULT_POLICY } from '../../src/core/model';
import { REPO, cli, tmpWorkspace } from './helpers';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const parse = (text: string | Buffer): ParsedActionsFile => parseActionsFile(text, 'actions.yaml', { now: NOW });
const EXAMPLE = `actions:
  nightly-tests:            # the name is the action's identity
    run: npm test
    cron: "0 3 * * 1-5"
    tz: Europe/Berlin
    runner: process
    timeout: 30m
    max-attempts: 3
    backoff: 30s
  preview:
    run: ./scripts/preview.sh
    webhook: preview
  lint-after-tests:
    run: npm run lint
    after: nightly-tests
  format:
    run: npm run format
    manual: true
    env:
      CI: true
      PORT: 3000
`;

/** The one problem a file has, as "line:column message". */
function only(text: string | Buffer): string {
  const r = parse(text);
  assert.strictEqual(r.problems.length, 1, `expected one problem, got: ${JSON.stringify(r.problems)}`);
  const [p] = r.problems;
  return `${p.line}:${p.column} ${p.message}`;
}

describe('the actions file', () => {
  it('a missing file reads as an empty one does, without loading the YAML parser for it', async () => {
    const file = path.join(tmpWorkspace(), '.sdlc', 'actions.yaml');
    assert.deepStrictEqual(await readActionsFile(file, { now: 0 }), parseActionsFile('', file, { now: 0 }));
    // In a fresh process: the owner's start reads a missing file, and YAML costs 30 ms and 9 MB to load.
    const source = path.join(__dirname, '../../src/core/definitions/actionsFileSource.js');
    const loaded = execFileSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(source)}).readActionsFile(${JSON.stringify(file)}, { now: 0 }).then((r) => console.log(r.actions.length, Object.keys(require.cache).some((k) => /node_modules[\\/]yaml[\\/]/.test(k))))`],
      { encoding: 'utf8' },
    );
    assert.strictEqual(loaded.trim(), '0 false');
  });

  it('reads the documented example into four actions with their lines', () => {
    const r = parse(EXAMPLE);
    assert.deepStrictEqual(r.problems, []);
    assert.deepStrictEqual(
      r.actions.map((a) => [a.name, a.at.line, a.input.trigger.kind]),
      [
        ['nightly-tests', 2, 'cron'],
        ['preview', 10, 'webhook'],
        ['lint-after-tests', 13, 'after'],
        ['format', 16, 'manual'],
      ],
    );
    const tests = r.actions[0];
    assert.deepStrictEqual(tests.input.trigger, { kind: 'cron', cron: '0 3 * * 1-5', tz: 'Europe/Berlin' });
    assert.deepStrictEqual(tests.input.policy, { timeout: '30m', maxAttempts: 3, backoff: '30s' });
    assert.deepStrictEqual(r.actions[3].input.run.env, { CI: 'true', PORT: '3000' });
    assert.strictEqual(tests.keys.cron!.line, 4);
  });

  it('hashes definitions, not their spelling: comments, order and quoting change nothing', () => {
    const a = parse('actions:\n  x:\n    run: echo hi\n    every: 5m\n').actions[0];
    const b = parse('# top\nactions:\n  x:   # why\n    every: "5m"\n    run: \'echo hi\'\n').actions[0];
    assert.strictEqual(a.hash, b.hash);
    const c = parse('actions:\n  x:\n    run: echo hi\n    every: 6m\n').actions[0];
    assert.notStrictEqual(a.hash, c.hash);
    assert.strictEqual(a.approvalKey, c.approvalKey, 'a schedule change needs no new approval');
    const d = parse('actions:\n  x:\n    run: echo bye\n    every: 5m\n').actions[0];
    assert.notStrictEqual(a.approvalKey, d.approvalKey, 'a command change does');
  });

  it('an empty file, or one with no actions, defines nothing and is valid', () => {
    for (const text of ['', '# nothing yet\n', 'actions:\n', 'version: 1\nactions: {}\n']) assert.deepStrictEqual(parse(text), { ...parse(text), problems: [], actions: [] });
  });

  describe('bad input: each a problem at its line and column', () => {
    it('an unknown key, with the likely key suggested', () => {
      assert.strictEqual(only('actions:\n  a:\n    run: x\n    manual: true\n    maxattempts: 3\n'), '5:5 a: unknown key "maxattempts"; did you mean "max-attempts"?');
      assert.match(only('actions:\n  a:\n    run: x\n    manual: true\n    colour: red\n'), /^5:5 a: unknown key "colour"; the keys are run, task/);
      assert.match(only('action:\n  a:\n    run: x\n'), /^1:1 unknown top-level key "action"/);
      assert.match(only('actions:\n  a:\n    run: x\n    evrey: 5m\n'), /^4:5 a: unknown key "evrey"; did you mean "every"\?/);
    });

    it('two triggers on one action', () => {
      assert.strictEqual(only('actions:\n  a:\n    run: x\n    cron: "* * * * *"\n    every: 5m\n'), '5:12 a: has two triggers (cron and every); an action has exactly one — split it into two actions, or use "after" to chain them');
    });

    it('no trigger, no command, tz without cron', () => {
      assert.match(only('actions:\n  a:\n    run: x\n'), /^2:3 a: say when it runs/);
      assert.match(only('actions:\n  a:\n    manual: true\n'), /^2:3 a: say what to run/);
      assert.match(only('actions:\n  a:\n    run: x\n    every: 1m\n    tz: UTC\n'), /^5:9 a: tz applies only to cron/);
    });

    it('a cycle through after, named with its path', () => {
      const r = parse('actions:\n  a:\n    run: x\n    after: b\n  b:\n    run: y\n    after: c\n  c:\n    run: z\n    after: a\n  d:\n    run: w\n    manual: true\n');
      assert.deepStrictEqual(r.problems.map((p) => `${p.line}:${p.column} ${p.message}`), ['4:12 a: dependency cycle through "after": a → b → c → a; an action cannot (indirectly) wait for itself']);
      assert.deepStrictEqual(r.actions.map((a) => a.name), ['d']);
    });

    it('an unknown after target', () => {
      assert.strictEqual(only('actions:\n  a:\n    run: x\n    after: nope\n  b:\n    run: y\n    manual: true\n'), '4:12 a: after "nope": no action of that name in this file; "after" names another action defined here (b)');
    });

    it('duplicate names, pointing at the second', () => {
      assert.strictEqual(only('actions:\n  a:\n    run: x\n    manual: true\n  a:\n    run: y\n    manual: true\n'), '5:3 "a" appears twice (first on line 2); each action name, and each key of an action, may appear once');
    });

    it('bad values, by the same rules as add', () => {
      assert.match(only('actions:\n  a:\n    run: x\n    cron: "0 3 * *"\n'), /^4:11 a: cron expression "0 3 \* \*" has 4 fields/);
      assert.match(only('actions:\n  a:\n    run: x\n    cron: "0 3 * * *"\n    tz: Mars/Olympus\n'), /^5:9 a: time zone "Mars\/Olympus" is unknown/);
      assert.match(only('actions:\n  a:\n    run: x\n    every: 5\n'), /^4:12 a: every needs a unit: write e.g. "5s"/);
      assert.match(only('actions:\n  a:\n    run: x\n    in: 10 minutes\n'), /^4:9 a: in "10 minutes" is not a duration/);
      assert.match(only('actions:\n  a:\n    run: x\n    manual: true\n    max-attempts: many\n'), /^5:19 a: max-attempts must be a whole number/);
      assert.match(only('actions:\n  a b:\n    run: x\n    manual: true\n'), /^2:3 action name "a b" is not valid/);
      assert.match(only('actions:\n  a:\n    run: x\n    manual: true\n    runner: "Bad Runner"\n'), /^5:13 a: runner "Bad Runner" is not one of task, terminal, process/);
    });

    it('broken YAML', () => {
      assert.match(only('actions:\n  a:\n    run: [x\n'), /^4:1 Flow sequence in block collection must be sufficiently indented and end with a \]/);
    });

    it('a 5 MB file is refused before it is parsed', () => {
      const big = Buffer.from(`actions:\n${'  # padding padding padding padding padding padding padding padding padding\n'.repeat(70_000)}`);
      assert.ok(big.length > 5_000_000);
      assert.match(only(big), /^1:1 the file is 5\.\d MiB; an actions file may be at most 1 MiB/);
    });

    it('a file that is not UTF-8, at the first bad byte', () => {
      const latin1 = Buffer.concat([Buffer.from('actions:\n  a:\n    run: echo caf'), Buffer.from([0xe9]), Buffer.from('\n    manual: true\n')]);
      assert.strictEqual(only(latin1), '3:18 the file is not UTF-8 text (this byte is not a UTF-8 character); save it as UTF-8');
      const utf16 = Buffer.from('\ufeffactions:\n', 'utf16le');
      assert.match(only(utf16), /not UTF-8/);
    });
  });

  describe('the JSON schema editors get', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', 'actions.schema.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

    it('has exactly the keys the parser knows, each with a description', () => {
      const props = schema.definitions.action.properties as Record<string, { description?: string }>;
      assert.deepStrictEqual(Object.keys(props).sort(), Object.keys(ACTION_KEYS).sort());
      for (const [k, v] of Object.entries(props)) assert.ok(v.description, `${k} has a description`);
    });

    it('agrees with the parser on valid and invalid shapes', () => {
      const cases = [
        EXAMPLE,
        'actions:\n  a:\n    run: x\n    cron: "* * * * *"\n    every: 5m\n',
        'actions:\n  a:\n    run: x\n    manual: true\n    colour: red\n',
        'actions:\n  a:\n    run: x\n',
        'actions:\n  a:\n    manual: true\n',
        'actions:\n  a:\n    run: x\n    every: 1m\n    tz: UTC\n',
        'actions:\n  a:\n    run: x\n    manual: true\n    max-attempts: 0\n',
        'actions:\n  a:\n    run: x\n    manual: true\n    runner: docker\n',
        'actions:\n  "a b":\n    run: x\n    manual: true\n',
        'actions:\n  a:\n    run: x\n    manual: false\n',
        'actions:\n  a:\n    task: build\n    runner: task\n    webhook: push\n',
        'extra: 1\nactions: {}\n',
      ];
      for (const text of cases) {
        const parserOk = parse(text).problems.length === 0;
        assert.strictEqual(validate(parseYaml(text)), parserOk, `schema and parser disagree on:\n${text}${JSON.stringify(validate.errors)}`);
      }
    });

    it('is contributed to the YAML extension for .sdlc/actions.yaml', () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
      const entry = pkg.contributes.yamlValidation.find((v: { url: string }) => v.url === './schemas/actions.schema.json');
      assert.ok(entry, 'yamlValidation names the schema');
      assert.ok(fs.readFileSync(path.join(REPO, '.vscodeignore'), 'utf8').includes('schemas/actions.schema.json'), 'the schema ships');
    });
  });

  describe('writing an action into the file', () => {
    it('keeps what the team wrote, and reads back as the action it came from', () => {
      const before = '# our automation\nactions:\n  # the slow one\n  tests:\n    run: npm test\n    manual: true\n';
      const action = { trigger: { kind: 'cron' as const, cron: '*/5 * * * *', tz: 'UTC' }, run: { runner: 'process', command: 'npm run lint', cwd: 'web', env: { CI: '1' } }, policy: { ...DEFAULT_POLICY, timeoutMs: 1_800_000, maxAttempts: 3 } };
      const text = addToActionsFile(before, 'lint', definitionOf(action), NOW);
      assert.ok(text.startsWith(before), text);
      const back = parse(text);
      assert.deepStrictEqual(back.problems, []);
      const lint = back.actions.find((a) => a.name === 'lint')!;
      assert.deepStrictEqual(lint.input.trigger, action.trigger);
      assert.deepStrictEqual(lint.input.run, { command: 'npm run lint', runner: 'process', cwd: 'web', env: { CI: '1' } });
      assert.deepStrictEqual(lint.input.policy, { timeout: '30m', maxAttempts: 3, catchUp: 'once' });
      assert.strictEqual(lint.approvalKey, approvalKeyOf(action.run), 'approving the written command approves what the file says');
    });

    it('refuses a name the file already has, a name that is not one, and a file with problems', () => {
      const file = 'actions:\n  tests:\n    run: npm test\n    manual: true\n';
      const def = { run: 'x', manual: true as const };
      assert.throws(() => addToActionsFile(file, 'tests', def, NOW), /already defines "tests"/);
      assert.throws(() => addToActionsFile(file, 'npm test', def, NOW), /cannot name an action .* \(e\.g\. "npm-test"\)/);
      assert.throws(() => addToActionsFile('actions:\n  a:\n    rn: x\n', 'b', def, NOW), /has problems \(line 3: a: unknown key "rn"/);
      assert.match(addToActionsFile(undefined, 'first', def, NOW), /^# SDLC Orchestrator actions[^]*actions:\n  first:\n    run: x\n    manual: true\n$/);
    });
  });

  describe('sdlc-orchestrator validate', () => {
    it('exits 0 for a good file and 2 with file:line:column for each problem, touching nothing', () => {
      const ws = tmpWorkspace();
      fs.mkdirSync(path.join(ws, '.sdlc'));
      const file = path.join(ws, '.sdlc', 'actions.yaml');
      fs.writeFileSync(file, EXAMPLE);
      const good = cli(['validate', '--workspace', ws]);
      assert.strictEqual(good.code, 0, good.stderr);
      assert.match(good.stdout, /4 action\(s\), no problems/);
      fs.writeFileSync(file, 'actions:\n  a:\n    run: x\n    cron: "* * * * *"\n    every: 5m\n  b:\n    rn: y\n    manual: true\n');
      const bad = cli(['validate', '--workspace', ws], { cwd: ws });
      assert.strictEqual(bad.code, 2);
      assert.deepStrictEqual(bad.stderr.trim().split('\n'), [
        '.sdlc/actions.yaml:5:12: a: has two triggers (cron and every); an action has exactly one — split it into two actions, or use "after" to chain them',
        `.sdlc/actions.yaml:7:5: b: unknown key "rn"; did you mean "run"?`,
      ]);
      const json = JSON.parse(cli(['validate', '--file', file, '--json']).stdout);
      assert.strictEqual(json.ok, false);
      assert.deepStrictEqual(json.problems.map((p: { line: number; column: number }) => [p.line, p.column]), [[5, 12], [7, 5]]);
      assert.deepStrictEqual(fs.readdirSync(path.join(ws, '.sdlc')), ['actions.yaml'], 'no database was created');
      assert.strictEqual(cli(['validate', '--file', path.join(ws, 'missing.yaml')]).code, 2);
    });
  });
});
