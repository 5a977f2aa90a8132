// How the CLI reads its configuration: validation errors name the key path and stop every
// command, environment variables override the file, and usage is printed on request.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, makeTempDir, writeConfig } from '../../support/chorus-process.ts';

describe('CLI: configuration, environment and usage', function () {
  this.timeout(60_000);
  let dir: string;
  const valid = (dataDir: string) => ({
    dataDir,
    log: { level: 'warn' },
    hosts: [{ domain: 'localhost' }],
    listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }],
  });

  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  describe('an invalid configuration', () => {
    it('exits non-zero naming the path of an unknown key and of a value of the wrong type', async () => {
      const config = await writeConfig(dir, {
        ...valid(join(dir, 'data')),
        colour: 'blue',
        listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0, bogus: true }],
        c2s: { idleSeconds: 'soon' },
      });
      const r = await runCli(['users', 'localhost', '--config', config]);
      expect(r.code).to.not.equal(0);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.include(`invalid configuration in ${config}`);
      const problems = r.stderr.split('\n').map((l) => l.trim());
      expect(problems).to.include('colour: unknown key');
      expect(problems).to.include('listeners.0.bogus: unknown key');
      expect(problems.some((l) => /^c2s\.idleSeconds: .*number/i.test(l)), r.stderr).to.equal(true);
      expect(r.stderr).to.not.match(/^\s+at /m);
    });

    it('names the file when it is not YAML, and when it does not exist', async () => {
      const broken = join(dir, 'broken.yaml');
      await writeFile(broken, 'hosts: [unclosed\n');
      const [notYaml, missing] = await Promise.all([
        runCli(['check', '--config', broken]),
        runCli(['check', '--config', join(dir, 'missing.yaml')]),
      ]);
      expect(notYaml.code).to.not.equal(0);
      expect(notYaml.stderr).to.include(`invalid configuration in ${broken}`);
      expect(notYaml.stderr).to.include('not valid YAML');
      expect(missing.code).to.not.equal(0);
      expect(missing.stderr).to.include(`invalid configuration in ${join(dir, 'missing.yaml')}`);
      expect(missing.stderr).to.include('cannot read the file');
    });

    it('stops `start` before it listens or writes anything', async () => {
      const config = await writeConfig(dir, { ...valid(join(dir, 'data')), listeners: [{ type: 'c2s', port: 'x' }] });
      const r = await runCli(['start', '--config', config]);
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.match(/listeners\.0\.port: /);
      expect(r.stdout).to.not.include('listening');
      expect(existsSync(join(dir, 'data'))).to.equal(false);
    });
  });

  describe('environment overrides', () => {
    it('CHORUS_DATA_DIR replaces dataDir', async () => {
      const fileDataDir = join(dir, 'from-file');
      const envDataDir = join(dir, 'from-env');
      const config = await writeConfig(dir, valid(fileDataDir));
      const add = await runCli(['adduser', 'alice@localhost', '--password', 'x', '--config', config], { env: { CHORUS_DATA_DIR: envDataDir } });
      expect(add.code, add.stderr).to.equal(0);
      const [withEnv, withoutEnv] = await Promise.all([
        runCli(['users', 'localhost', '--config', config], { env: { CHORUS_DATA_DIR: envDataDir } }),
        runCli(['users', 'localhost', '--config', config]),
      ]);
      expect(withEnv.stdout.trim()).to.equal('alice@localhost');
      expect(withoutEnv.stdout.trim()).to.equal('');
    });

    it('CHORUS_CONFIG names the file when --config is absent, and CHORUS_HOSTS replaces the host list', async () => {
      const config = await writeConfig(dir, valid(join(dir, 'data')));
      const env = { CHORUS_CONFIG: config, CHORUS_HOSTS: 'example.test, chat.example.test' };
      const add = await runCli(['adduser', 'bob@chat.example.test', '--password', 'x'], { env });
      expect(add.code, add.stderr).to.equal(0);
      // One after the other: both open the embedded store in the same data directory.
      const users = await runCli(['users', 'chat.example.test'], { env });
      const localhost = await runCli(['users', 'localhost'], { env });
      expect(users.stdout.trim()).to.equal('bob@chat.example.test');
      // localhost is no longer served.
      expect(localhost.code).to.equal(2);
      expect(localhost.stderr).to.include('example.test, chat.example.test');
    });

    it('an override is validated like the file: a bad CHORUS_LOG_LEVEL names log.level', async () => {
      const config = await writeConfig(dir, valid(join(dir, 'data')));
      const r = await runCli(['check', '--config', config], { env: { CHORUS_LOG_LEVEL: 'loud' } });
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.match(/log\.level: /);
    });
  });

  describe('usage', () => {
    it('--help prints the usage with every command and exits 0', async () => {
      for (const args of [['--help'], ['-h'], ['adduser', '--help']]) {
        const r = await runCli(args);
        expect(r.code, args.join(' ')).to.equal(0);
        expect(r.stdout.startsWith('usage: chorus <command> [options]'), r.stdout).to.equal(true);
        for (const command of ['start', 'adduser', 'passwd', 'deluser', 'users', 'cert generate', 'cert import', 'check', '--config']) {
          expect(r.stdout).to.include(command);
        }
      }
    });

    it('without a command prints the usage and exits 2; an unknown command is a usage error (exit 2)', async () => {
      const config = await writeConfig(dir, valid(join(dir, 'data')));
      const [none, unknown] = await Promise.all([runCli([]), runCli(['frobnicate', '--config', config])]);
      expect(none.code).to.equal(2);
      expect(none.stdout).to.include('usage: chorus');
      expect(unknown.code).to.equal(2);
      expect(unknown.stderr).to.include("unknown command 'frobnicate'");
    });

    it('an unknown option is a usage error too: exit 2 and one line naming it, no stack trace', async () => {
      const config = await writeConfig(dir, valid(join(dir, 'data')));
      const r = await runCli(['users', 'localhost', '--verbose', '--config', config]);
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.include("Unknown option '--verbose'");
      // The CLI's own convention (main.ts): usage errors exit 2, and only unexpected failures print a stack.
      expect(r.code).to.equal(2);
      expect(r.stderr).to.not.match(/^\s+at /m);
    });
  });
});
