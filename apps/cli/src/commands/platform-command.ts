import { Injectable } from '@nestjs/common';
import { CommandRunner } from 'nest-commander';
import { PlatformRuntime } from '../platform-runtime';

/**
 * A command that acts on the platform. It gets the runtime, which opens the platform only when the
 * command runs, so `--help` and usage errors never touch the database.
 */
@Injectable()
export abstract class PlatformCommand extends CommandRunner {
  constructor(protected readonly runtime: PlatformRuntime) {
    super();
  }
}
