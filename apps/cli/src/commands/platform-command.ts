import { Injectable } from '@nestjs/common';
import { CommandRunner } from 'nest-commander';
import { PlatformRuntime } from '../platform-runtime';

/**
 * A command that acts on the platform. It gets the runtime, which opens the platform only when the
 * command runs, so `--help` and usage errors never touch the database. A command that changes
 * something does it inside `runtime.act`, the CLI's audit context; outside it the change is refused,
 * because the audit log would not know who made it.
 */
@Injectable()
export abstract class PlatformCommand extends CommandRunner {
  constructor(protected readonly runtime: PlatformRuntime) {
    super();
  }
}
