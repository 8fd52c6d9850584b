/**
 * A bare provisioning worker process for crash tests: the platform runtime plus the provisioning
 * module with workers on, configured from the environment (including the fault-injection setting).
 * Exits 0 on SIGTERM.
 *
 * With `--fault-from-stdin` it loads its code, prints `loaded`, and waits for one line on standard input:
 * the fault point (TOWNHALL_FAULT_CRASH_AFTER_STEP; an empty line for none). Only then does it read its
 * configuration and start working, so a test can start the next worker while the current one runs and
 * hand it its crash point when its turn comes, without paying Node's and Nest's start for each point.
 */
import { createInterface } from 'node:readline';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { loadConfig } from '@townhall/core';
import { PlatformModule } from '@townhall/platform';
import { ProvisioningModule } from '@townhall/provisioning';

async function faultFromStdin(): Promise<void> {
  process.stdout.write('loaded\n');
  const lines = createInterface({ input: process.stdin });
  let point = '';
  for await (const line of lines) {
    point = line.trim();
    break;
  }
  lines.close();
  if (point) process.env.TOWNHALL_FAULT_CRASH_AFTER_STEP = point;
  else delete process.env.TOWNHALL_FAULT_CRASH_AFTER_STEP;
}

async function main(): Promise<void> {
  if (process.argv.includes('--fault-from-stdin')) await faultFromStdin();
  const config = loadConfig();
  @Module({ imports: [PlatformModule.forRoot(config), ProvisioningModule] })
  class WorkerModule {}
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error'] });
  const stop = () => {
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('close failed:', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
