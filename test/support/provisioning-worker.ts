/**
 * A bare provisioning worker process for crash tests: the platform runtime plus the provisioning
 * module with workers on, configured from the environment (including the fault-injection setting).
 * Exits 0 on SIGTERM.
 */
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { loadConfig } from '@townhall/core';
import { PlatformModule } from '@townhall/platform';
import { ProvisioningModule } from '@townhall/provisioning';

async function main(): Promise<void> {
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
