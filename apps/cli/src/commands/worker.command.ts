import { Command, Help } from 'nest-commander';
import { helpText, notice } from '../cli-output';
import { PlatformCommand } from './platform-command';

@Command({
  name: 'worker',
  description:
    'run the queue workers (tenant provisioning and deletion) without HTTP, until SIGTERM or SIGINT',
})
export class WorkerCommand extends PlatformCommand {
  @Help('after')
  examples(): string {
    return helpText(
      ['townhall worker', 'TOWNHALL_PROVISIONING_CONCURRENCY=8 townhall worker'],
      [
        'Start as many as the queue needs; each runs TOWNHALL_PROVISIONING_CONCURRENCY jobs at a time and',
        're-queues work the registry says is due. On SIGTERM it finishes the jobs in hand and exits 0.',
      ],
    );
  }

  async run(): Promise<void> {
    // Listen before starting, so a signal that arrives during start-up still stops the worker cleanly.
    const stop = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    await this.runtime.open({ workers: true });
    notice(
      `worker ready (pid ${process.pid}, provisioning concurrency ${this.runtime.config().provisioning.concurrency})`,
    );
    const signal = await stop;
    notice(`worker stopping (${signal}): finishing the jobs in hand…`);
    // A second signal while draining means "now".
    const force = (): void => process.exit(1);
    process.once('SIGTERM', force);
    process.once('SIGINT', force);
    await this.runtime.close();
    notice('worker stopped');
  }
}
