// The command line itself: every subcommand listed by `help` answers --help with its usage, an
// unknown command or option is refused with exit code 2 and a pointer to help.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('stripe-flows', () => {
  const listed = [...cli('help').stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!).filter((c) => c !== 'help');

  it('lists its commands', () => {
    expect(listed).toEqual(expect.arrayContaining(['dev', 'trigger', 'routes', 'endpoints']));
  });

  it('answers --help on every command with that command\'s usage', () => {
    for (const command of listed) {
      const result = cli(command, '--help');
      expect(result.status, command).toBe(0);
      expect(result.stdout, command).toMatch(new RegExp(`^Usage: stripe-flows ${command}\\b`));
    }
  });

  it('refuses an unknown command or option with exit code 2', () => {
    const unknown = cli('deploy');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "deploy"');
    const option = cli('routes', '--frobnicate');
    expect(option.status).toBe(2);
    expect(option.stderr).toContain('Unknown option --frobnicate for routes');
  });
});
