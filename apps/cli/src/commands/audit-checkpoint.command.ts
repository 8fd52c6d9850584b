import { Help, Option, SubCommand } from 'nest-commander';
import { CheckpointAuditLog } from '@townhall/compliance';
import { helpText, printFields, printJson } from '../cli-output';
import { PlatformCommand } from './platform-command';

@SubCommand({
  name: 'checkpoint',
  description: 'sign a checkpoint of the audit log now, covering every committed entry',
})
export class AuditCheckpointCommand extends PlatformCommand {
  @Option({ flags: '--json', description: 'print the signed checkpoint as JSON, as exports carry it' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(
      ['townhall audit checkpoint', 'townhall audit checkpoint --json > checkpoint.json'],
      [
        'Checkpoints are also signed every TOWNHALL_AUDIT_CHECKPOINT_ENTRIES entries or',
        'TOWNHALL_AUDIT_CHECKPOINT_SECONDS seconds. The request is itself recorded, and the checkpoint',
        'covers that entry. The JSON is what `townhall audit verify --since` takes.',
      ],
    );
  }

  async run(_params: string[], options: { json?: boolean } = {}): Promise<void> {
    const checkpoint = await this.runtime.act((context) => context.get(CheckpointAuditLog).run());
    if (options.json) {
      printJson(checkpoint);
      return;
    }
    printFields([
      ['tree size', checkpoint.treeSize],
      ['root hash', checkpoint.rootHash],
      ['key id', checkpoint.keyId],
      ['time', checkpoint.time],
    ]);
  }
}
