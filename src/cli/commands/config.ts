import type { Command } from 'commander';
import { addServerFlags, configOptionsFromFlags, type ServerFlags } from '../serverFlags.js';

/** `herald config`: the effective config (defaults included) as YAML, token values masked. */
export function configCommand(program: Command): void {
  addServerFlags(
    program
      .command('config')
      .description('print the effective configuration, defaults included, as YAML (token values masked)')
      .option('--json', 'print JSON instead of YAML'),
  ).action(async (flags: ServerFlags & { json?: boolean }) => {
    const [{ loadConfig, redactConfig }, { stringify }] = await Promise.all([import('../../config/load.js'), import('yaml')]);
    const warnings: string[] = [];
    const config = redactConfig(loadConfig({ ...configOptionsFromFlags(flags), env: process.env, onWarning: (w) => warnings.push(w) }));
    for (const warning of warnings) process.stderr.write(`herald: warning: ${warning}\n`);
    process.stdout.write(flags.json ? `${JSON.stringify(config, null, 2)}\n` : stringify(config));
  });
}
